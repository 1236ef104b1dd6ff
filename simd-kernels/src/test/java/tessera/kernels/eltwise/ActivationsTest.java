package tessera.kernels.eltwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static tessera.kernels.eltwise.KernelChecks.assertClose;
import static tessera.kernels.eltwise.KernelChecks.awayFromZero;
import static tessera.kernels.eltwise.KernelChecks.uniform;

import org.junit.jupiter.api.Test;
import tessera.kernels.Activation;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Fast F32 activations against the float64 reference; reference derivatives against central differences.
 * Tolerance F32 vs F64: 2e-6 absolute + 4e-6 relative (a few float ulps: lanewise exp/tanh/log1p are 1-ulp, the
 * composed formulas add a few roundings).
 */
class ActivationsTest {
    static final double ATOL = 2e-6, RTOL = 4e-6;
    static final Activation[] ACTS = Activation.values();

    @Test
    void forwardAndBackwardMatchReferenceOnRandomSizes() {
        qt().withExamples(200).forAll(integers().between(0, ACTS.length - 1), integers().between(1, 300), longs().between(1, 1_000_000))
                .checkAssert((ai, n, seed) -> {
                    Activation act = ACTS[ai];
                    float alpha = act == Activation.ELU ? 1.3f : 0.07f;
                    try (Tensor x = uniform(seed, -8, 8, n); Tensor y = Tensor.zeros(n); Tensor dy = uniform(seed + 1, -1, 1, n);
                         Tensor dx = Tensor.zeros(n); Tensor x64 = x.to(DType.F64); Tensor y64 = Tensor.zeros(DType.F64, n);
                         Tensor dy64 = dy.to(DType.F64); Tensor dx64 = Tensor.zeros(DType.F64, n)) {
                        Activations.forward(act, alpha, x, y);
                        Activations.forward(act, alpha, x64, y64);
                        assertClose(y, y64, ATOL, RTOL, act + " forward n=" + n);
                        Activations.backward(act, alpha, x, y, dy, dx);
                        Activations.backward(act, alpha, x64, y64, dy64, dx64);
                        assertClose(dx, dx64, ATOL, RTOL, act + " backward n=" + n);
                    }
                });
    }

    @Test
    void extremeInputsStayFinite() {
        float[] v = {-1e4f, -100f, -30f, -20.5f, 0f, 19.9f, 20.5f, 30f, 100f, 1e4f, 1e-30f, -1e-30f, 3f, -3f, 0.5f, 88f, -88f};
        for (Activation act : ACTS) {
            try (Tensor x = Tensor.of(v, v.length); Tensor y = Tensor.zeros(v.length); Tensor dx = Tensor.zeros(v.length);
                 Tensor ones = Tensor.of(filled(v.length, 1f), v.length); Tensor x64 = x.to(DType.F64);
                 Tensor y64 = Tensor.zeros(DType.F64, v.length); Tensor dx64 = Tensor.zeros(DType.F64, v.length);
                 Tensor ones64 = ones.to(DType.F64)) {
                Activations.forward(act, 0.2f, x, y);
                Activations.forward(act, 0.2f, x64, y64);
                assertClose(y, y64, ATOL, RTOL, act + " forward extremes");
                Activations.backward(act, 0.2f, x, null, ones, dx);
                Activations.backward(act, 0.2f, x64, null, ones64, dx64);
                assertClose(dx, dx64, ATOL, RTOL, act + " backward extremes");
            }
        }
    }

    @Test
    void referenceDerivativesMatchFiniteDifferences() {
        qt().withExamples(60).forAll(integers().between(0, ACTS.length - 1), integers().between(1, 12), longs().between(1, 1_000_000))
                .checkAssert((ai, n, seed) -> {
                    Activation act = ACTS[ai];
                    float alpha = 0.3f;
                    try (Tensor xf = awayFromZero(seed, 5, 0.05, n); Tensor x = xf.to(DType.F64); Tensor v = uniform(seed + 7, -1, 1, n);
                         Tensor v64 = v.to(DType.F64); Tensor dx = Tensor.zeros(DType.F64, n)) {
                        Activations.backward(act, alpha, x, null, v64, dx);
                        double[] vv = v64.toDoubleArray();
                        KernelChecks.gradCheck(x.toDoubleArray(), xs -> {
                            try (Tensor xt = Tensor.of(xs, n); Tensor yt = Tensor.zeros(DType.F64, n)) {
                                Activations.forward(act, alpha, xt, yt);
                                return KernelChecks.dot(vv, yt);
                            }
                        }, dx.toDoubleArray(), act.toString());
                    }
                });
    }

    @Test
    void inPlaceAndStridedInputsAgreeWithContiguous() {
        try (Tensor x = uniform(5, -3, 3, 7, 13); Tensor expected = Tensor.zeros(13, 7); Tensor y = Tensor.zeros(13, 7)) {
            Tensor xt = x.transpose(0, 1);                      // non-contiguous view [13, 7]
            try (Tensor xc = xt.copy()) {
                Activations.forward(Activation.SILU, 0f, xc, expected);
                Activations.forward(Activation.SILU, 0f, xt, y);
                assertArrayEquals(expected.toFloatArray(), y.toFloatArray());
                Activations.forward(Activation.SILU, 0f, xc, xc);    // in place
                assertArrayEquals(expected.toFloatArray(), xc.toFloatArray());
            }
        }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        int n = 200_003;
        int saved = ComputePool.threads();
        try (Tensor x = uniform(11, -6, 6, n); Tensor y1 = Tensor.zeros(n); Tensor y2 = Tensor.zeros(n)) {
            for (Activation act : ACTS) {
                ComputePool.setThreads(1);
                Activations.forward(act, 0.1f, x, y1);
                ComputePool.setThreads(2);
                Activations.forward(act, 0.1f, x, y2);
                if (act == Activation.RELU || act == Activation.LEAKY_RELU || act == Activation.IDENTITY) {
                    assertArrayEquals(y1.toFloatArray(), y2.toFloatArray(), act.toString());
                } else {
                    // same partition-independent lane arithmetic, but the Vector API's transcendental operators may
                    // round differently by an ulp before and after C2 compiles them (Java fallback vs SVML stub)
                    assertClose(y1, y2, 1e-7, 3e-7, act + " 1 vs 2 threads");
                }
            }
        } finally {
            ComputePool.setThreads(saved);
        }
    }

    @Test
    void preluMatchesReferenceAndGradients() {
        qt().withExamples(60).forAll(integers().between(1, 3), integers().between(1, 5), integers().between(1, 40), longs().between(1, 1_000_000))
                .checkAssert((n, c, hw, seed) -> {
                    try (Tensor x = awayFromZero(seed, 3, 0.05, n, c, hw); Tensor slope = uniform(seed + 1, -0.5, 0.5, c);
                         Tensor y = Tensor.zeros(n, c, hw); Tensor x64 = x.to(DType.F64); Tensor s64 = slope.to(DType.F64);
                         Tensor y64 = Tensor.zeros(DType.F64, n, c, hw)) {
                        Activations.preluForward(x, slope, y);
                        Activations.preluForward(x64, s64, y64);
                        assertClose(y, y64, 1e-7, 1e-6, "prelu forward");
                        double[] v = uniform(seed + 2, -1, 1, n, c, hw).toDoubleArray();
                        try (Tensor dy = Tensor.of(v, n, c, hw); Tensor dx = Tensor.zeros(DType.F64, n, c, hw);
                             Tensor ds = Tensor.zeros(DType.F64, c)) {
                            Activations.preluBackward(x64, s64, dy, dx, ds);
                            double[] x0 = x64.toDoubleArray(), a0 = s64.toDoubleArray();
                            KernelChecks.gradCheck(x0, xs -> preluLoss(xs, a0, v, n, c, hw), dx.toDoubleArray(), "prelu dx");
                            KernelChecks.gradCheck(a0, as -> preluLoss(x0, as, v, n, c, hw), ds.toDoubleArray(), "prelu dslope");
                        }
                    }
                });
    }

    private static double preluLoss(double[] xs, double[] as, double[] v, int n, int c, int hw) {
        try (Tensor x = Tensor.of(xs, n, c, hw); Tensor a = Tensor.of(as, as.length); Tensor y = Tensor.zeros(DType.F64, n, c, hw)) {
            Activations.preluForward(x, a, y);
            return KernelChecks.dot(v, y);
        }
    }

    @Test
    void maxoutPicksFirstMaximumAndRoutesGradient() {
        qt().withExamples(60).forAll(integers().between(1, 3), integers().between(1, 4), integers().between(1, 3), integers().between(1, 20))
                .checkAssert((n, groups, pieces, hw) -> {
                    int c = groups * pieces;
                    try (Tensor x = uniform(n * 1000L + c * 10L + hw, -3, 3, n, c, hw); Tensor y = Tensor.zeros(n, groups, hw);
                         Tensor arg = Tensor.zeros(DType.I32, n, groups, hw); Tensor x64 = x.to(DType.F64);
                         Tensor y64 = Tensor.zeros(DType.F64, n, groups, hw); Tensor arg64 = Tensor.zeros(DType.I32, n, groups, hw)) {
                        Activations.maxoutForward(x, pieces, y, arg);
                        Activations.maxoutForward(x64, pieces, y64, arg64);
                        assertClose(y, y64, 0, 0, "maxout forward");
                        assertArrayEquals(arg64.toDoubleArray(), arg.toDoubleArray());
                        try (Tensor dy = uniform(3, -1, 1, n, groups, hw); Tensor dx = Tensor.zeros(n, c, hw)) {
                            dx.fill(9);
                            Activations.maxoutBackward(arg, pieces, dy, dx);
                            double sumDx = 0, sumDy = 0;
                            for (double d : dx.toDoubleArray()) sumDx += d;
                            for (double d : dy.toDoubleArray()) sumDy += d;
                            assertEquals(sumDy, sumDx, 1e-4);
                            for (int i = 0; i < n; i++) for (int g = 0; g < groups; g++) for (int s = 0; s < hw; s++) {
                                int k = (int) arg.getDouble(i, g, s);
                                assertEquals(dy.getDouble(i, g, s), dx.getDouble(i, g * pieces + k, s));
                                assertEquals(y.getDouble(i, g, s), x.getDouble(i, g * pieces + k, s));
                            }
                        }
                    }
                });
    }

    @Test
    void badArgumentsAreRejectedWithNames() {
        try (Tensor x = Tensor.zeros(2, 3); Tensor y = Tensor.zeros(3, 2); Tensor y64 = Tensor.zeros(DType.F64, 2, 3);
             Tensor i32 = Tensor.zeros(DType.I32, 2, 3); Tensor slope = Tensor.zeros(4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.RELU, 0, x, y));
            assertTrue(e.getMessage().contains("y") && e.getMessage().contains("[3, 2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.RELU, 0, x, y64));
            assertThrows(IllegalArgumentException.class, () -> Activations.forward(null, 0, x, x));
            assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.RELU, 0, i32, i32));
            e = assertThrows(IllegalArgumentException.class, () -> Activations.preluForward(x, slope, x));
            assertTrue(e.getMessage().contains("slope"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Activations.maxoutForward(x, 2, y, i32));
            assertThrows(IllegalArgumentException.class, () -> Activations.maxoutForward(x, 0, y, i32));
        }
    }

    private static float[] filled(int n, float v) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, v);
        return f;
    }
}
