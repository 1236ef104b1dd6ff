package tessera.kernels.eltwise;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Argument checks and small helpers shared by the elementwise, reduction and normalization kernels
 * ({@code tessera.kernels.eltwise}, {@code .reduce}, {@code .norm}). Every check throws an
 * {@link IllegalArgumentException} whose message names the parameter, what it got and what was expected.
 */
public final class TensorArgs {
    private TensorArgs() {}

    /** {@code t} is non-null and F32 or F64. */
    public static void requireFloat(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(name + " must not be null");
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + " (shape " + str(t) + "), expected F32 or F64");
        }
    }

    /** {@code t} is non-null and has dtype {@code type}. */
    public static void requireDType(String name, Tensor t, DType type) {
        if (t == null) throw new IllegalArgumentException(name + " must not be null");
        if (t.dtype() != type) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + " (shape " + str(t) + "), expected " + type);
        }
    }

    /** {@code t} is a float tensor with the dtype of {@code ref}. */
    public static void requireSameDType(String name, Tensor t, String refName, Tensor ref) {
        requireFloat(name, t);
        if (t.dtype() != ref.dtype()) {
            throw new IllegalArgumentException(name + " has dtype " + t.dtype() + " but " + refName + " has dtype " + ref.dtype()
                    + "; expected the same float dtype");
        }
    }

    /** {@code t} is a float tensor with the dtype and shape of {@code ref}. */
    public static void requireSameShape(String name, Tensor t, String refName, Tensor ref) {
        requireSameDType(name, t, refName, ref);
        if (!t.sameShapeAs(ref)) {
            throw new IllegalArgumentException(name + " has shape " + str(t) + " but " + refName + " has shape " + str(ref)
                    + "; expected equal shapes");
        }
    }

    /** {@code t} has exactly {@code shape}. */
    public static void requireShape(String name, Tensor t, int[] shape, String why) {
        if (t == null) throw new IllegalArgumentException(name + " must not be null");
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(name + " has shape " + str(t) + ", expected " + Arrays.toString(shape) + " (" + why + ")");
        }
    }

    /** A normalized axis in [0, rank) ({@code axis} may be negative, counting from the end). */
    public static int axis(String name, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(name + " = " + axis + " is out of range for a tensor of rank " + rank
                    + ", expected -" + rank + " <= " + name + " < " + rank);
        }
        return a;
    }

    /** Byte offset of element 0 of a tensor in its segment. */
    public static long byteOffset(Tensor t) { return t.offset() * t.dtype().byteSize(); }

    /** Product of {@code shape[from..to)}. */
    public static long product(int[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }

    /** The shape as text, e.g. {@code [2, 3]}. */
    public static String str(Tensor t) { return Arrays.toString(t.shape()); }

    /** True when every given tensor (nulls ignored) is contiguous; fixed-arity forms allocate no varargs array. */
    public static boolean allContiguous(Tensor a, Tensor b) {
        return (a == null || a.isContiguous()) && (b == null || b.isContiguous());
    }

    public static boolean allContiguous(Tensor a, Tensor b, Tensor c) {
        return allContiguous(a, b) && (c == null || c.isContiguous());
    }

    /** As above, for any number of tensors. */
    public static boolean allContiguous(Tensor... ts) {
        for (Tensor t : ts) if (t != null && !t.isContiguous()) return false;
        return true;
    }

    /** Writes {@code values} (row-major) into {@code t}, whatever its strides and float dtype. For reference paths. */
    public static void store(Tensor t, double[] values) {
        if (values.length != t.numel()) {
            throw new IllegalArgumentException("store: " + values.length + " values for a tensor of shape " + str(t));
        }
        if (t.dtype() == DType.F64 && t.isContiguous()) {
            MemorySegment.copy(values, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED,
                    byteOffset(t), values.length);
            return;
        }
        try (Tensor tmp = Tensor.of(values, t.shape())) {
            t.copyFrom(tmp);
        }
    }

    /** Writes {@code values} (row-major) into an I64 or I32 tensor. */
    public static void storeLongs(Tensor t, long[] values) {
        try (Tensor tmp = Tensor.ofLongs(values, t.shape())) {
            t.copyFrom(tmp);
        }
    }
}
