package tessera.autograd;

import tessera.memory.Tensor;

/** Records op results: a value with a {@link Node} when recording is on and some input needs a gradient. */
final class Graph {
    private Graph() {}

    static Variable record(String op, Tensor out, Backward backward, Variable... inputs) {
        if (GradMode.isEnabled()) {
            for (Variable in : inputs) {
                if (in != null && in.requiresGrad()) {
                    return new Variable(out, true, new Node(op, inputs, backward), op);
                }
            }
        }
        return new Variable(out, false, null, op);
    }
}
