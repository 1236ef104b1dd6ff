package tessera.autograd;

/**
 * A recorded op in the graph: its name, its inputs and its backward rule. The rule (and whatever tensors it
 * captured) is dropped as soon as backward has run through the node, unless a {@link CapturedStep} keeps it.
 */
public final class Node {
    private final String op;
    private final Variable[] inputs;
    private Backward backward;
    /** Recorded by a {@link CapturedStep}: the rule is kept for the replays. */
    private final boolean retained;

    Node(String op, Variable[] inputs, Backward backward, boolean retained) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
        this.retained = retained;
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

    void release() { if (!retained) backward = null; }

    @Override
    public String toString() { return op; }
}
