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
import tessera.kernels.ActivationFn;
import tessera.kernels.ActivationSamples;
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
                    ActivationFn act = ActivationSamples.sample(ACTS[ai], (int) (seed % 4));
                    try (Tensor x = uniform(seed, -8, 8, n); Tensor y = Tensor.zeros(n); Tensor dy = uniform(seed + 1, -1, 1, n);
                         Tensor dx = Tensor.zeros(n); Tensor x64 = x.to(DType.F64); Tensor y64 = Tensor.zeros(DType.F64, n);
                         Tensor dy64 = dy.to(DType.F64); Tensor dx64 = Tensor.zeros(DType.F64, n)) {
                        Activations.forward(act, x, y);
                        Activations.forward(act, x64, y64);
                        assertClose(y, y64, ATOL, RTOL, act + " forward n=" + n);
                        Activations.backward(act, x, y, dy, dx);
                        Activations.backward(act, x64, y64, dy64, dx64);
                        assertClose(dx, dx64, ATOL, RTOL, act + " backward n=" + n);
                    }
                });
    }

    @Test
    void extremeInputsStayFinite() {
        float[] v = {-1e4f, -100f, -30f, -20.5f, 0f, 19.9f, 20.5f, 30f, 100f, 1e4f, 1e-30f, -1e-30f, 3f, -3f, 0.5f, 88f, -88f};
        for (int k = 0; k < ACTS.length * 4; k++) {
            ActivationFn act = ActivationSamples.sample(ACTS[k % ACTS.length], k / ACTS.length);
            try (Tensor x = Tensor.of(v, v.length); Tensor y = Tensor.zeros(v.length); Tensor dx = Tensor.zeros(v.length);
                 Tensor ones = Tensor.of(filled(v.length, 1f), v.length); Tensor x64 = x.to(DType.F64);
                 Tensor y64 = Tensor.zeros(DType.F64, v.length); Tensor dx64 = Tensor.zeros(DType.F64, v.length);
                 Tensor ones64 = ones.to(DType.F64)) {
                Activations.forward(act, x, y);
                Activations.forward(act, x64, y64);
                assertClose(y, y64, ATOL, RTOL, act + " forward extremes");
                Activations.backward(act, x, null, ones, dx);
                Activations.backward(act, x64, null, ones64, dx64);
                assertClose(dx, dx64, ATOL, RTOL, act + " backward extremes");
            }
        }
    }

    @Test
    void referenceDerivativesMatchFiniteDifferences() {
        qt().withExamples(60).forAll(integers().between(0, ACTS.length - 1), integers().between(1, 12), longs().between(1, 1_000_000))
                .checkAssert((ai, n, seed) -> {
                    ActivationFn act = ActivationSamples.sample(ACTS[ai], (int) (seed % 4));
                    try (Tensor xf = awayFromKinks(act, seed, 6, n); Tensor x = xf.to(DType.F64); Tensor v = uniform(seed + 7, -1, 1, n);
                         Tensor v64 = v.to(DType.F64); Tensor dx = Tensor.zeros(DType.F64, n)) {
                        Activations.backward(act, x, null, v64, dx);
                        double[] vv = v64.toDoubleArray();
                        KernelChecks.gradCheck(x.toDoubleArray(), xs -> {
                            try (Tensor xt = Tensor.of(xs, n); Tensor yt = Tensor.zeros(DType.F64, n)) {
                                Activations.forward(act, xt, yt);
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
            for (Activation kind : ACTS) {
                ActivationFn act = ActivationSamples.sample(kind, 1);
                ComputePool.setThreads(1);
                Activations.forward(act, x, y1);
                ComputePool.setThreads(2);
                Activations.forward(act, x, y2);
                if (kind != Activation.SELU && kind.ordinal() >= Activation.CLIP.ordinal()
                        || kind == Activation.RELU || kind == Activation.LEAKY_RELU || kind == Activation.IDENTITY
                        || kind == Activation.SIGMOID || kind == Activation.TANH || kind == Activation.SILU) { // VectorMath
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

    /** Uniform in [-hi, hi], every point at least 0.05 from each kink of {@code act} (moved past it if closer). */
    private static Tensor awayFromKinks(ActivationFn act, long seed, double hi, int n) {
        double[] x = uniform(seed, -hi, hi, n).toDoubleArray();
        for (int i = 0; i < n; i++) {
            for (double k : ActivationSamples.kinks(act)) {
                if (Math.abs(x[i] - k) < 0.05) x[i] = k + (x[i] < k ? -0.05 : 0.05) * 1.5;
            }
        }
        return Tensor.of(KernelChecks.toFloats(x), n);
    }

    @Test
    void gradientsAtKinksFollowPyTorch() {
        // x, expected dy/dx (PyTorch 1.13 backward), both paths (F32 kernel and F64 reference)
        check(ActivationFn.relu6(), new double[] {-1e-3, 0, 3, 6, 6.001}, new double[] {0, 1, 1, 1, 0});  // clamp: bounds pass
        check(ActivationFn.clip(Float.NEGATIVE_INFINITY, 1f), new double[] {-1e30, 1, 2}, new double[] {1, 1, 0});
        check(ActivationFn.hardSigmoid(), new double[] {-3, -2.99, 0, 2.99, 3}, new double[] {0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 0});
        check(ActivationFn.hardSwish(), new double[] {-3.01, -3, 0, 3, 3.01}, new double[] {0, -0.5, 0.5, 1.5, 1});
        check(ActivationFn.selu(), new double[] {0, 1e-3, -1}, new double[] {1.0507009873554805 * 1.6732632423543772, 1.0507009873554805,
            1.0507009873554805 * 1.6732632423543772 * Math.exp(-1)});
    }

    private static void check(ActivationFn act, double[] xs, double[] want) {
        int n = xs.length;
        try (Tensor x = Tensor.of(KernelChecks.toFloats(xs), n); Tensor x64 = x.to(DType.F64); Tensor g = Tensor.of(filled(n, 1f), n);
             Tensor g64 = g.to(DType.F64); Tensor dx = Tensor.zeros(n); Tensor dx64 = Tensor.zeros(DType.F64, n)) {
            Activations.backward(act, x, null, g, dx);
            Activations.backward(act, x64, null, g64, dx64);
            assertClose(dx64.toDoubleArray(), want, 1e-7, 1e-6, act + " F64 gradient at kinks");
            assertClose(dx.toDoubleArray(), want, 1e-6, 1e-6, act + " F32 gradient at kinks");
        }
    }

    @Test
    void newActivationsMatchPyTorchValues() {
        // values computed with torch 1.13 (float64): relu6, hardsigmoid, hardswish, selu, and ONNX HardSigmoid defaults
        double[] x = {-4, -3, -1, -0.5, 0, 0.5, 1, 3, 4, 7};
        double[] relu6 = {0, 0, 0, 0, 0, 0.5, 1, 3, 4, 6};
        double[] hsig = {0, 0, 1 / 3.0, 5 / 12.0, 0.5, 7 / 12.0, 2 / 3.0, 1, 1, 1};
        double[] hswish = {-0.0, 0, -1 / 3.0, -5 / 24.0, 0, 7 / 24.0, 2 / 3.0, 3, 4, 7};
        double[] onnxHsig = {0, 0, 0.3, 0.4, 0.5, 0.6, 0.7, 1, 1, 1};
        double[] selu = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            selu[i] = 1.0507009873554805 * (x[i] > 0 ? x[i] : 1.6732632423543772 * (Math.exp(x[i]) - 1));
        }
        ActivationFn[] fns = {ActivationFn.relu6(), ActivationFn.hardSigmoid(), ActivationFn.hardSwish(), ActivationFn.hardSigmoid(0.2f, 0.5f),
            ActivationFn.selu()};
        double[][] want = {relu6, hsig, hswish, onnxHsig, selu};
        for (int f = 0; f < fns.length; f++) {
            try (Tensor t = Tensor.of(KernelChecks.toFloats(x), x.length); Tensor y = Tensor.zeros(x.length); Tensor t64 = t.to(DType.F64);
                 Tensor y64 = Tensor.zeros(DType.F64, x.length)) {
                Activations.forward(fns[f], t, y);
                Activations.forward(fns[f], t64, y64);
                assertClose(y64.toDoubleArray(), want[f], 1e-7, 1e-7, fns[f] + " F64");
                assertClose(y.toDoubleArray(), want[f], 1e-6, 1e-6, fns[f] + " F32");
            }
        }
    }

    @Test
    void badParametersAreRejectedWithNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ActivationFn.clip(1f, 0f));
        assertTrue(e.getMessage().contains("min") && e.getMessage().contains("max"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationFn.clip(Float.NaN, 0f));
        assertTrue(e.getMessage().contains("min"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationFn.hardSigmoid(Float.POSITIVE_INFINITY, 0f));
        assertTrue(e.getMessage().contains("alpha"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationFn.selu(1f, Float.NaN));
        assertTrue(e.getMessage().contains("gamma"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationFn.of(Activation.CLIP, 1f));
        assertTrue(e.getMessage().contains("clip(min, max)"), e.getMessage());
        assertEquals(ActivationFn.sigmoid(), ActivationFn.of(Activation.SIGMOID, 0.3f));   // unused parameters are ignored
        assertEquals("Clip(0,6)", ActivationFn.relu6().toString());
        assertEquals("Clip(-inf,0.5)", ActivationFn.clip(Float.NEGATIVE_INFINITY, 0.5f).toString());
    }

    private static float[] filled(int n, float v) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, v);
        return f;
    }
}
