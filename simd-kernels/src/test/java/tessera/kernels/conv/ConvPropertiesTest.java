package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arrays;
import static org.quicktheories.generators.SourceDSL.integers;
import static tessera.kernels.conv.ConvTestSupport.U;
import static tessera.kernels.conv.ConvTestSupport.abs64;
import static tessera.kernels.conv.ConvTestSupport.randomF32;
import static tessera.kernels.conv.ConvTestSupport.worstRatio;

import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ActivationSamples;
import tessera.kernels.PostOps;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Every applicable algorithm's forward, input gradient and weight gradient against the float64 reference.
 *
 * <p>Tolerances, per output element, relative to {@code Σ|terms|} (the reference run on absolute values, i.e. the
 * sum of absolute products that formed the element): every algorithm {@code (L + 2)·u} with u = 2⁻²⁴ and L the
 * reduction length (C/g·R·S forward, K/g·R·S input gradient, N·P·Q weight gradient) — the classical bound for a
 * float32 sum of L products. Winograd forward, input gradient and weight gradient (computed in the Winograd domain
 * too) add a floor of {@code E·u·max_j Σ|terms|_j}
 * (its error follows the magnitude of the whole α×α tile, not of one output, so it shows near zero padding):
 * E = {@link #WINOGRAD_F2_TOL} for F(2×2,3×3), {@link #WINOGRAD_F4_TOL} for F(4×4,3×3) — about 5× the worst
 * measured by {@link ConvWinogradErrorTest} (F2 ≈ 2u, F4 ≈ 26u).
 */
class ConvPropertiesTest {
    /** Winograd F(2×2,3×3) error floor in units of u·max Σ|terms| (measured worst ≈ 2). */
    static final double WINOGRAD_F2_TOL = 16;
    /** Winograd F(4×4,3×3) error floor in units of u·max Σ|terms| (measured worst ≈ 26: transform constants up to 8, 1/24). */
    static final double WINOGRAD_F4_TOL = 128;

    static Gen<int[]> raws() {
        return arrays().ofIntegers(integers().between(0, 999)).withLength(19).map(ConvPropertiesTest::unbox);
    }

    static int[] unbox(Integer[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    static double factor(ConvAlgorithm a) {
        return switch (a) {
            case WINOGRAD_F2X3 -> WINOGRAD_F2_TOL;
            case WINOGRAD_F4X3 -> WINOGRAD_F4_TOL;
            default -> 0;
        };
    }

    @Test
    void forwardBackwardMatchReferenceOnRandomConfigurations() {
        qt().withExamples(80).forAll(raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> checkAll(ConvTestSupport.spec(raw), seed));
    }

    @Test
    void winogradShapesMatchReference() {
        qt().withExamples(50).forAll(raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> checkAll(ConvTestSupport.winogradSpec(raw), seed));
    }

    /** Strided 1×1 layers (ResNet's projection shortcut), wide enough for the vectorized column picks of stride 2. */
    @Test
    void stridedPointwiseShapesMatchReference() {
        qt().withExamples(40).forAll(raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> {
                    int sh = ConvTestSupport.pick(raw[7], 1, 3), sw = ConvTestSupport.pick(raw[8], sh == 1 ? 2 : 1, 3);
                    int p = ConvTestSupport.pick(raw[11], 1, 20), q = ConvTestSupport.pick(raw[12], 1, 20);
                    int h = (p - 1) * sh + 1 + ConvTestSupport.pick(raw[17], 0, sh - 1);
                    int w = (q - 1) * sw + 1 + ConvTestSupport.pick(raw[18], 0, sw - 1);
                    checkAll(new ConvSpec(ConvTestSupport.pick(raw[0], 1, 3), ConvTestSupport.pick(raw[3], 1, 24), h, w,
                            ConvTestSupport.pick(raw[4], 1, 40), 1, 1, sh, sw, 0, 0, 0, 0, 1, 1, 1), seed);
                });
    }

    static void checkAll(ConvSpec s, int seed) {
        try (Tensor x = randomF32(seed, s.inputShape()); Tensor w = randomF32(seed + 1, s.weightShape());
             Tensor b = randomF32(seed + 2, s.outChannels()); Tensor dy = randomF32(seed + 3, s.outputShape());
             Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor b64 = b.to(DType.F64);
             Tensor dy64 = dy.to(DType.F64); Tensor ax = abs64(x); Tensor aw = abs64(w); Tensor ab = abs64(b);
             Tensor ady = abs64(dy)) {
            Tensor yRef = Tensor.zeros(DType.F64, s.outputShape()), yAbs = Tensor.zeros(DType.F64, s.outputShape());
            Conv2d.forward(s, ConvAlgorithm.AUTO, x64, w64, b64, null, yRef);
            Conv2d.forward(s, ConvAlgorithm.AUTO, ax, aw, ab, null, yAbs);
            Tensor dxRef = Tensor.zeros(DType.F64, s.inputShape()), dxAbs = Tensor.zeros(DType.F64, s.inputShape());
            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy64, w64, dxRef);
            Conv2d.backwardData(s, ConvAlgorithm.AUTO, ady, aw, dxAbs);
            Tensor dwRef = Tensor.zeros(DType.F64, s.weightShape()), dwAbs = Tensor.zeros(DType.F64, s.weightShape());
            Tensor dbRef = Tensor.zeros(DType.F64, s.outChannels()), dbAbs = Tensor.zeros(DType.F64, s.outChannels());
            Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, x64, dy64, dwRef, dbRef);
            Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, ax, ady, dwAbs, dbAbs);
            int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups(), rs = s.kernelH() * s.kernelW();
            for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                // the floor of the algorithm each call runs (AUTO resolves per call and per direction)
                ConvGeom g = s.geom();
                double f = factor(ConvAlgorithmSelector.resolveForward(a, g));
                double fd = factor(Conv2d.resolveBackwardData(a, g)), fw = factor(Conv2d.resolveBackwardWeights(a, g));
                Tensor y = Tensor.zeros(DType.F32, s.outputShape());
                Conv2d.forward(s, a, x, w, b, null, y);
                double rf = worstRatio(y, yRef, yAbs, (cg * rs + 2) * U, f * U);
                assertTrue(rf <= 1, () -> a + " forward error ratio " + rf + " for " + s);
                Tensor dx = Tensor.zeros(DType.F32, s.inputShape());
                Conv2d.backwardData(s, a, dy, w, dx);
                double rd = worstRatio(dx, dxRef, dxAbs, (kg * rs + 2) * U, fd * U);
                assertTrue(rd <= 1, () -> a + " backwardData error ratio " + rd + " for " + s);
                Tensor dw = Tensor.zeros(DType.F32, s.weightShape()), db = Tensor.zeros(DType.F32, s.outChannels());
                Conv2d.backwardWeights(s, a, x, dy, dw, db);
                long l = (long) s.batch() * s.outH() * s.outW() + 2;
                double rw = worstRatio(dw, dwRef, dwAbs, l * U, fw * U);
                assertTrue(rw <= 1, () -> a + " backwardWeights error ratio " + rw + " for " + s);
                double rb = worstRatio(db, dbRef, dbAbs, l * U);
                assertTrue(rb <= 1, () -> a + " bias gradient error ratio " + rb + " for " + s);
                y.close(); dx.close(); dw.close(); db.close();
            }
            yRef.close(); yAbs.close(); dxRef.close(); dxAbs.close(); dwRef.close(); dwAbs.close(); dbRef.close(); dbAbs.close();
        }
    }

    @Test
    void fusedPostOpsEqualUnfusedForEveryAlgorithmAndPlan() {
        Activation[] acts = Activation.values();
        qt().withExamples(40).forAll(raws(), integers().between(0, acts.length - 1), integers().between(0, 1 << 20))
                .checkAssert((raw, ai, seed) -> {
                    ConvSpec s = raw[2] % 2 == 0 ? ConvTestSupport.winogradSpec(raw) : ConvTestSupport.spec(raw);
                    ActivationFn act = ActivationSamples.sample(acts[ai], seed);
                    try (Tensor x = randomF32(seed, s.inputShape()); Tensor w = randomF32(seed + 1, s.weightShape());
                         Tensor b = randomF32(seed + 2, s.outChannels()); Tensor res = randomF32(seed + 3, s.outputShape())) {
                        for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                            Tensor plain = Tensor.zeros(DType.F32, s.outputShape());
                            Conv2d.forward(s, a, x, w, null, null, plain);
                            float[] p = plain.toFloatArray(), r = res.toFloatArray();
                            int plane = s.outH() * s.outW();
                            double[] expect = new double[p.length];
                            for (int i = 0; i < p.length; i++) {
                                int k = (i / plane) % s.outChannels();
                                float v = p[i] + b.getFloat(k) + r[i];
                                expect[i] = ConvReference.activate(act, v);
                            }
                            Tensor fused = Tensor.zeros(DType.F32, s.outputShape());
                            Conv2d.forward(s, a, x, w, b, new PostOps(act, res), fused);
                            compareClose(a + " fused " + act, fused.toFloatArray(), expect, s);
                            try (ConvPlan plan = ConvPlan.create(s, a, w, b, act)) {
                                Tensor viaPlan = Tensor.zeros(DType.F32, s.outputShape());
                                plan.execute(x, res, viaPlan);
                                compareClose(a + " plan " + act, viaPlan.toFloatArray(), expect, s);
                                viaPlan.close();
                            }
                            plain.close(); fused.close();
                        }
                    }
                });
    }

    /** Fused and unfused differ only by float32 rounding of the bias/residual add order: 4 ulps of the magnitude. */
    static void compareClose(String what, float[] got, double[] expect, ConvSpec s) {
        for (int i = 0; i < got.length; i++) {
            double tol = 1e-6 * (1 + Math.abs(expect[i])) * 4;
            int idx = i;
            assertTrue(Math.abs(got[i] - expect[i]) <= tol,
                    () -> what + " at " + idx + ": " + got[idx] + " vs " + expect[idx] + " for " + s);
        }
    }
}
