package tessera.autograd;

import java.util.ArrayDeque;
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
        Tensor one = Scope.alloc(value.dtype(), value.shape());
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
        List<Variable> order = topologicalOrder(this);
        Map<Variable, Tensor> pending = new IdentityHashMap<>();
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
            Tensor[] inGrads = node.backward().apply(g);
            node.release();
            Variable[] inputs = node.inputsUnsafe();
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
                if (prev == null) {
                    pending.put(in, gi);
                } else {
                    Tensor sum = Scope.allocUninitialized(prev.dtype(), prev.shape());
                    Binary.apply(Binary.Op.ADD, prev, gi, sum);
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

    /** Values reachable from {@code root} that require a gradient, inputs before the values computed from them. */
    static List<Variable> topologicalOrder(Variable root) {
        List<Variable> order = new ArrayList<>();
        Set<Variable> visited = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();   // {variable, next input index}
        stack.push(new Object[]{root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Variable v = (Variable) top[0];
            int next = (Integer) top[1];
            Variable[] ins = v.producer == null ? new Variable[0] : v.producer.inputsUnsafe();
            if (next < ins.length) {
                top[1] = next + 1;
                Variable in = ins[next];
                if (in != null && in.requiresGrad && visited.add(in)) stack.push(new Object[]{in, 0});
            } else {
                stack.pop();
                order.add(v);
            }
        }
        return order;
    }

    @Override
    public String toString() {
        return "Variable(" + name + ", " + value + (requiresGrad ? ", requiresGrad" : "")
                + (producer != null ? ", from " + producer.op() : "") + ")";
    }

}
