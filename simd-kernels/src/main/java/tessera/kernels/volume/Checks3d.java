package tessera.kernels.volume;

import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Argument validation of the 3-D kernels; messages name the operation, the argument, its shape and what was expected. */
final class Checks3d {
    private Checks3d() {}

    /** Each array has {@code length} values, each at least {@code min}. */
    static int[] ints(String what, int[] v, int length, int min) {
        if (v == null || v.length != length) {
            throw new IllegalArgumentException(what + " = " + Arrays.toString(v) + " must have " + length + " values");
        }
        for (int x : v) if (x < min) throw new IllegalArgumentException(what + " = " + Arrays.toString(v) + " must be >= " + min);
        return v.clone();
    }

    static DType floatType(String op, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": input tensor must not be null");
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64) throw new IllegalArgumentException(op + ": dtype must be F32 or F64, got " + t.dtype());
        return t.dtype();
    }

    /** t is contiguous, of dtype d and shape {@code dims}. */
    static void tensor(String op, String name, Tensor t, DType d, int... dims) {
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " must not be null");
        if (t.dtype() != d) throw new IllegalArgumentException(op + ": " + name + " has dtype " + t.dtype() + ", expected " + d);
        if (!Arrays.equals(t.shape(), dims)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(dims));
        }
        if (!t.isContiguous()) throw new IllegalArgumentException(op + ": " + name + " must be contiguous (call contiguous())");
    }

    /** Shape [a, b] followed by the three spatial sizes. */
    static int[] dims(int a, int b, int[] spatial) { return new int[] {a, b, spatial[0], spatial[1], spatial[2]}; }
}
