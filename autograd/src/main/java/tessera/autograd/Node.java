package tessera.autograd;

/**
 * A recorded op in the graph: its name, its inputs and its backward rule. The rule (and whatever tensors it
 * captured) is dropped as soon as backward has run through the node.
 */
public final class Node {
    private final String op;
    private final Variable[] inputs;
    private Backward backward;

    Node(String op, Variable[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String op() { return op; }

    public Variable[] inputs() { return inputs.clone(); }

    Variable[] inputsUnsafe() { return inputs; }

    Backward backward() {
        if (backward == null) {
            throw new IllegalStateException("backward through op '" + op + "' a second time: its saved tensors were "
                    + "released after the first backward (record the forward again)");
        }
        return backward;
    }

    void release() { backward = null; }

    @Override
    public String toString() { return op; }
}
