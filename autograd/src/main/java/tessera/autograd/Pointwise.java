package tessera.autograd;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import tessera.memory.Tensor;

/**
 * Scalar elementwise loops for the few ops without a dedicated kernel (log, exp, sqrt, powers, comparisons).
 * Computed in double precision and stored in the tensor's dtype; inputs may be strided.
 */
final class Pointwise {
    private Pointwise() {}

    static Tensor map(Tensor x, DoubleUnaryOperator f) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        mapInto(x, f, y);
        return y;
    }

    /** y = f(x) elementwise into a contiguous y of x's shape (a captured op's forward). */
    static void mapInto(Tensor x, DoubleUnaryOperator f, Tensor y) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = f.applyAsDouble(v[i]);
        write(y, v);
    }

    /** Same shapes only. */
    static Tensor zip(Tensor a, Tensor b, DoubleBinaryOperator f) {
        Tensor y = Scope.alloc(a.dtype(), a.shape());
        zipInto(a, b, f, y);
        return y;
    }

    /** y = f(a, b) elementwise into a contiguous y of their (same) shape. */
    static void zipInto(Tensor a, Tensor b, DoubleBinaryOperator f, Tensor y) {
        double[] va = a.toDoubleArray(), vb = b.toDoubleArray();
        for (int i = 0; i < va.length; i++) va[i] = f.applyAsDouble(va[i], vb[i]);
        write(y, va);
    }

    static void write(Tensor contiguous, double[] values) {
        Tensor flat = contiguous.reshape((int) contiguous.numel());
        for (int i = 0; i < values.length; i++) flat.set(values[i], i);
    }
}
