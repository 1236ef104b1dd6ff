package tessera.onnx.infer;

import java.util.List;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The executable plan of a session for one set of concrete input shapes: values (constants, activation buffers at
 * fixed offsets of one activation block, or views aliasing another value), steps in order, and the memory plan.
 * Immutable and shared by every thread; each thread binds it to its own {@link ExecutionContext}.
 */
final class Specialization {
    /** A value of the plan. {@code constant} for known tensors; else {@code root} (itself or the aliased value) and {@code offset}. */
    static final class Value {
        final String name;
        final int[] shape;
        final DType dtype;
        final Tensor constant;
        final int root;
        long offset = -1;
        int def, lastUse;

        Value(String name, int[] shape, DType dtype, Tensor constant, int root) {
            this.name = name;
            this.shape = shape;
            this.dtype = dtype;
            this.constant = constant;
            this.root = root;
        }

        long bytes() { return ShapeMath.numel(shape) * dtype.byteSize(); }
    }

    /** Creates the per-thread runnable of a step from the thread's value tensors. */
    @FunctionalInterface
    interface Binder {
        Runnable bind(Tensor[] values);
    }

    /**
     * One kernel call: node name (for errors and profiles), what it computes ({@code op}: the ONNX op type plus
     * what was fused into it, e.g. {@code Conv+Add+Relu}, {@code Conv+Clip(0,6)}), how ({@code algorithm}: e.g.
     * {@code winograd_f4x3}, or "" when there is one way), values read and written, binder.
     */
    record Step(String node, String op, String algorithm, int[] reads, int[] writes, Binder binder) {}

    final int[][] inputShapes;
    final List<Value> values;
    final List<Step> steps;
    final int[] inputIds, outputIds;
    final long activationBytes;

    Specialization(int[][] inputShapes, List<Value> values, List<Step> steps, int[] inputIds, int[] outputIds, long activationBytes) {
        this.inputShapes = inputShapes;
        this.values = values;
        this.steps = steps;
        this.inputIds = inputIds;
        this.outputIds = outputIds;
        this.activationBytes = activationBytes;
    }

    int[] outputShape(int k) { return values.get(outputIds[k]).shape.clone(); }

    boolean matches(Tensor[] inputs) {
        if (inputs.length != inputShapes.length) return false;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            int[] s = inputShapes[i];
            if (t.rank() != s.length) return false;
            for (int d = 0; d < s.length; d++) if (t.dim(d) != s[d]) return false;
        }
        return true;
    }
}
