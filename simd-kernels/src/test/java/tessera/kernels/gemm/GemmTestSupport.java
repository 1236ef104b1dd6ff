package tessera.kernels.gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import tessera.kernels.ActivationFn;

/** Random operands, a float64 oracle and the error bound the GEMM properties use. */
final class GemmTestSupport {
    private GemmTestSupport() {}

    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE;
    /** Unit roundoff of float32. */
    static final double U = Math.ulp(1.0f) / 2;

    static MemorySegment randomFloats(Arena arena, long count, long seed) {
        MemorySegment s = arena.allocate(Math.max(1, count) * 4, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) s.setAtIndex(F, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    static MemorySegment toDoubles(Arena arena, MemorySegment f, boolean abs) {
        long n = f.byteSize() / 4;
        MemorySegment d = arena.allocate(n * 8, 64);
        for (long i = 0; i < n; i++) {
            double v = f.getAtIndex(F, i);
            d.setAtIndex(D, i, abs ? Math.abs(v) : v);
        }
        return d;
    }

    static MemorySegment copy(Arena arena, MemorySegment s) {
        MemorySegment c = arena.allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    /**
     * The error bound for one element of float32 GEMM against the exact (float64) result:
     * {@code 2·(k + 6)·u·M + 1e-6}, where u = 2⁻²⁴ and M = |alpha|·Σ_p|a_ip||b_pj| + |beta·c_ij| (+ |bias| + |residual|
     * terms when an epilogue is present). This is twice the classic γ_{k+6} bound of a length-k recursive dot product
     * followed by the alpha/beta/bias/residual roundings; it grows linearly with k.
     */
    static double tolerance(int k, double magnitude) {
        return 2.0 * (k + 6) * U * magnitude + 1e-6;
    }

    /** PyTorch-semantics activations in float64 (the oracle of the epilogue). */
    static double activation(ActivationFn fn, double x) {
        double alpha = fn.a(), beta = fn.b();
        return switch (fn.kind()) {
            case IDENTITY -> x;
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x < 0 ? alpha * x : x;
            case ELU -> x > 0 ? x : alpha * Math.expm1(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case SILU -> x / (1 + Math.exp(-x));
            case MISH -> x * Math.tanh(x > 20 ? x : Math.log1p(Math.exp(x)));
            case SOFTPLUS -> x > 20 ? x : Math.log1p(Math.exp(x));
            case CLIP -> x < alpha ? alpha : x > beta ? beta : x;
            case HARD_SIGMOID -> Math.max(0, Math.min(1, alpha * x + beta));
            case HARD_SWISH -> x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6;
            case SELU -> beta * (x > 0 ? x : alpha * Math.expm1(x));
        };
    }
}
