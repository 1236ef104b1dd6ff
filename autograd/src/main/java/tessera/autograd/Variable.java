package tessera.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tessera.kernels.eltwise.Binary;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A differentiable value: a {@link Tensor} plus, when it was produced by a recorded op, the {@link Node} that made it.
 *
 * <p>Leaves are either <b>parameters</b> ({@link #parameter}: require a gradient, which accumulates in
 * {@link #grad()} across backward passes until {@link #zeroGrad()}) or <b>constants</b> ({@link #constant}).
 * Non-leaf values get a gradient only during {@link #backward()}; it is not kept.
 */
public final class Variable {
    private final Tensor value;
    private final boolean requiresGrad;
    private final Node producer;
    private final String name;
    private Tensor grad;          // parameters: persistent, self-owned; non-leaves: transient during backward

    Variable(Tensor value, boolean requiresGrad, Node producer, String name) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.producer = producer;
        this.name = name;
    }

    /** A trainable leaf: gradients accumulate into {@link #grad()}. The variable does not take ownership of {@code value}. */
    public static Variable parameter(Tensor value, String name) { return new Variable(value, true, null, name); }

    /** A leaf that needs a gradient (e.g. an input for a saliency map or a gradient check). */
    public static Variable parameter(Tensor value) { return parameter(value, "param"); }

    /** A leaf without gradient. */
    public static Variable constant(Tensor value) { return new Variable(value, false, null, "const"); }

    public Tensor value() { return value; }
    public String name() { return name; }
    public boolean requiresGrad() { return requiresGrad; }
    public boolean isLeaf() { return producer == null; }
    /** The op that produced this value, or null for leaves and values computed without recording. */
    public Node producer() { return producer; }
    public int[] shape() { return value.shape(); }
    public int dim(int d) { return value.dim(d); }
    public DType dtype() { return value.dtype(); }

    /** Accumulated gradient of a leaf parameter, or null before the first backward. */
    public Tensor grad() { return grad; }

    /** Sets the accumulated gradient of a parameter to zero. */
    public void zeroGrad() { if (grad != null) grad.fill(0); }

    /** Frees the parameter's gradient memory. */
    public void releaseGrad() {
        if (grad != null) { grad.close(); grad = null; }
    }

    /** The same value, cut from the graph (no gradient flows through it). */
    public Variable detach() { return new Variable(value, false, null, name); }

    /** Backpropagates from this scalar (one element) value: ∂this/∂leaf accumulates into every parameter's grad. */
    public void backward() {
        if (value.numel() != 1) {
            throw new IllegalArgumentException("backward() without an output gradient needs a scalar, got shape "
                    + Arrays.toString(value.shape()) + "; pass the output gradient (a vector-Jacobian product)");
        }
        Tensor one = Scope.allocLike(value); // no shape array: a captured step's replay allocates nothing
        one.fill(1.0);
        backward(one);
    }

    /**
     * Vector-Jacobian product: backpropagates {@code gradOutput} (this value's shape). Sorts the graph topologically
     * once, visits each node once in reverse order, accumulates gradients of values that feed several consumers, and
     * releases each node's saved tensors after use.
     */
    public void backward(Tensor gradOutput) {
        if (!gradOutput.sameShapeAs(value)) {
            throw new IllegalArgumentException("backward: output gradient shape " + Arrays.toString(gradOutput.shape())
                    + " differs from the value's shape " + Arrays.toString(value.shape()));
        }
        if (!requiresGrad) {
            throw new IllegalStateException("backward on a value that does not require a gradient (no parameter reaches it, "
                    + "or it was computed with GradMode off)");
        }
        BackwardScratch sc = BackwardScratch.acquire();
        try {
            backward(gradOutput, sc);
        } finally {
            sc.release();
        }
    }

    private void backward(Tensor gradOutput, BackwardScratch sc) {
        List<Variable> order = topologicalOrder(this, sc);
        Map<Variable, Tensor> pending = sc.pending;
        BackwardObserver observer = BackwardObserver.Installation.current();
        pending.put(this, gradOutput);
        for (int i = order.size() - 1; i >= 0; i--) {
            Variable v = order.get(i);
            Tensor g = pending.remove(v);
            if (g == null) continue;
            if (v.producer == null) {
                v.accumulateLeaf(g);
                continue;
            }
            Node node = v.producer;
            Variable[] inputs = node.inputsUnsafe();
            Backward rule = node.backward();
            Tensor[] taken = rule instanceof AccumulatingBackward ? sc.pendingOf(inputs, pending) : null;
            if (observer != null) observer.before(node.op(), g);
            Tensor[] inGrads = taken == null ? rule.apply(g) : ((AccumulatingBackward) rule).apply(g, taken);
            if (observer != null) observer.after(node.op(), g);
            node.release();
            if (inGrads.length != inputs.length) {
                throw new IllegalStateException("op '" + node.op() + "' returned " + inGrads.length + " gradients for "
                        + inputs.length + " inputs");
            }
            for (int k = 0; k < inputs.length; k++) {
                Variable in = inputs[k];
                Tensor gi = inGrads[k];
                if (in == null || gi == null || !in.requiresGrad) continue;
                if (!gi.sameShapeAs(in.value)) {
                    throw new IllegalStateException("op '" + node.op() + "' produced a gradient of shape "
                            + Arrays.toString(gi.shape()) + " for input " + k + " of shape " + Arrays.toString(in.value.shape()));
                }
                Tensor prev = pending.get(in);
                if (prev == null || (taken != null && taken[k] == prev)) { // absent, or already added by the rule
                    pending.put(in, gi);
                } else {
                    Tensor sum = Scope.allocUninitializedLike(prev);
                    if (observer != null) observer.before(BackwardObserver.GRADIENT_SUM, sum);
                    Binary.apply(Binary.Op.ADD, prev, gi, sum);
                    if (observer != null) observer.after(BackwardObserver.GRADIENT_SUM, sum);
                    pending.put(in, sum);
                }
            }
        }
    }

    private void accumulateLeaf(Tensor g) {
        if (grad == null) {
            grad = Tensor.zeros(value.dtype(), value.shape());
            grad.copyFrom(g);
        } else {
            Binary.axpby(1f, g, 1f, grad);
        }
    }

    /**
     * Values reachable from {@code root} that require a gradient, inputs before the values computed from them
     * (depth-first, iterative), in {@code sc.order}.
     */
    private static List<Variable> topologicalOrder(Variable root, BackwardScratch sc) {
        List<Variable> order = sc.order;
        Set<Variable> visited = sc.visited;
        int depth = 0;
        sc.push(depth++, root);
        visited.add(root);
        while (depth > 0) {
            Variable v = sc.stack[depth - 1];
            int next = sc.nextInput[depth - 1];
            Variable[] ins = v.producer == null ? NO_INPUTS : v.producer.inputsUnsafe();
            if (next < ins.length) {
                sc.nextInput[depth - 1] = next + 1;
                Variable in = ins[next];
                if (in != null && in.requiresGrad && visited.add(in)) sc.push(depth++, in);
            } else {
                sc.stack[--depth] = null;
                order.add(v);
            }
        }
        return order;
    }

    private static final Variable[] NO_INPUTS = {};

    /**
     * The graph walk's collections, kept per thread so that a training step's backward allocates none of them
     * (they only grow). A backward started from inside another on the same thread (a backward function that
     * differentiates) gets fresh ones. Cleared after each pass, so they hold no graph between passes.
     */
    private static final class BackwardScratch {
        private static final ThreadLocal<BackwardScratch> PER_THREAD = ThreadLocal.withInitial(BackwardScratch::new);
        final List<Variable> order = new ArrayList<>();
        final Set<Variable> visited = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        final Map<Variable, Tensor> pending = new IdentityHashMap<>();
        Variable[] stack = new Variable[64];
        int[] nextInput = new int[64];
        /** The pending gradients handed to an {@link AccumulatingBackward}, one slot per input. */
        private Tensor[] taken = new Tensor[3];

        /**
         * The pending gradient of each input that needs one (null elsewhere) in a reused array as long as the inputs,
         * or null if none has one. An input listed twice gets none: both of its gradients would include it.
         */
        Tensor[] pendingOf(Variable[] inputs, Map<Variable, Tensor> pending) {
            if (taken.length != inputs.length) taken = new Tensor[inputs.length];
            boolean any = false;
            for (int k = 0; k < inputs.length; k++) {
                Variable in = inputs[k];
                Tensor p = in == null || !in.requiresGrad ? null : pending.get(in);
                for (int j = 0; j < inputs.length && p != null; j++) if (j != k && inputs[j] == in) p = null;
                taken[k] = p;
                any |= p != null;
            }
            return any ? taken : null;
        }
        boolean inUse;

        static BackwardScratch acquire() {
            BackwardScratch sc = PER_THREAD.get();
            if (sc.inUse) sc = new BackwardScratch();
            sc.inUse = true;
            return sc;
        }

        void push(int depth, Variable v) {
            if (depth == stack.length) {
                stack = Arrays.copyOf(stack, 2 * depth);
                nextInput = Arrays.copyOf(nextInput, 2 * depth);
            }
            stack[depth] = v;
            nextInput[depth] = 0;
        }

        void release() {
            Arrays.fill(taken, null);
            order.clear();
            visited.clear();
            pending.clear();
            Arrays.fill(stack, null);
            inUse = false;
        }
    }

    @Override
    public String toString() {
        return "Variable(" + name + ", " + value + (requiresGrad ? ", requiresGrad" : "")
                + (producer != null ? ", from " + producer.op() : "") + ")";
    }

}
