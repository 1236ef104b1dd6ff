package tessera.autograd;

import tessera.memory.Tensor;

/** Records op results: a value with a {@link Node} when recording is on and some input needs a gradient. */
final class Graph {
    private Graph() {}

    /**
     * The seed for a stochastic op's forward computation: {@code opSeed} eagerly and while capturing, one derived
     * from it and the replay's seed while a {@link CapturedStep} replays ({@link StepTape#seedFor}).
     */
    static long stepSeed(long opSeed) {
        StepTape tape = Scope.currentTape();
        return tape == null ? opSeed : tape.seedFor(opSeed);
    }

    /** An op without a replayable forward computation: a {@link CapturedStep} that meets it cannot be captured. */
    static Variable record(String op, Tensor out, Backward backward, Variable... inputs) {
        return record(op, out, null, backward, inputs);
    }

    /**
     * An op whose output {@code out} was computed by {@code forward} (already run), which recomputes it in place from
     * its inputs' current values — kernels only, no allocation — when a {@link CapturedStep} replays the step.
     */
    static Variable record(String op, Tensor out, Runnable forward, Backward backward, Variable... inputs) {
        StepTape tape = Scope.currentTape();
        if (tape != null) tape.recordForward(op, forward);
        if (GradMode.isEnabled()) {
            for (Variable in : inputs) {
                if (in != null && in.requiresGrad()) {
                    return new Variable(out, true, new Node(op, inputs, backward, tape != null), op);
                }
            }
        }
        return new Variable(out, false, null, op);
    }
}
