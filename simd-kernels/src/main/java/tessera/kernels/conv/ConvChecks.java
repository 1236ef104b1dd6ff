package tessera.kernels.conv;

import tessera.memory.DType;
import tessera.memory.Tensor;

/** Argument validation shared by the public convolution entry points (messages name the argument and shapes). */
final class ConvChecks {
    private ConvChecks() {}

    static DType floatType(String op, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": input tensor must not be null");
        DType d = t.dtype();
        if (d != DType.F32 && d != DType.F64)
            throw new IllegalArgumentException(op + ": dtype must be F32 or F64, got " + d);
        return d;
    }

    /** Checks that t is a contiguous tensor of dtype d with shape [a, b, c, e]. */
    static void tensor4(String op, String name, Tensor t, DType d, int a, int b, int c, int e) {
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " must not be null");
        if (t.dtype() != d) throw new IllegalArgumentException(op + ": " + name + " has dtype " + t.dtype() + ", expected " + d);
        if (t.rank() != 4 || t.dim(0) != a || t.dim(1) != b || t.dim(2) != c || t.dim(3) != e)
            throw new IllegalArgumentException(op + ": " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + a + ", " + b + ", " + c + ", " + e + "]");
        if (!t.isContiguous()) throw new IllegalArgumentException(op + ": " + name + " must be contiguous (call contiguous())");
    }

    /** Checks a [n] vector (null allowed when {@code optional}). */
    static void vector(String op, String name, Tensor t, DType d, int n) {
        if (t == null) return;
        if (t.dtype() != d) throw new IllegalArgumentException(op + ": " + name + " has dtype " + t.dtype() + ", expected " + d);
        if (t.rank() != 1 || t.dim(0) != n)
            throw new IllegalArgumentException(op + ": " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + n + "]");
        if (!t.isContiguous()) throw new IllegalArgumentException(op + ": " + name + " must be contiguous");
    }

    static void notNull(String op, String name, Object o) {
        if (o == null) throw new IllegalArgumentException(op + ": " + name + " must not be null");
    }
}
