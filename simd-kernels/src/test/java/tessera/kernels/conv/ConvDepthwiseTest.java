package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static tessera.kernels.conv.ConvTestSupport.U;
import static tessera.kernels.conv.ConvTestSupport.abs64;
import static tessera.kernels.conv.ConvTestSupport.randomF32;
import static tessera.kernels.conv.ConvTestSupport.worstRatio;

import org.junit.jupiter.api.Test;
import tessera.kernels.ActivationFn;
import tessera.kernels.PostOps;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The depthwise kernel ({@link F32ConvDepthwise}: groups = C = K) against the float64 reference, through both
 * entry points (unplanned DIRECT forward, and a {@link ConvPlan} with bias + ReLU fused or a residual), over random
 * kernel sizes, strides 1–3 (the column-phase path), dilations, asymmetric padding and widths that are not
 * multiples of the vector length, narrow (bulk plane copy) and wide (row copies, stride-2 lane compaction).
 */
class ConvDepthwiseTest {
    static ConvSpec spec(int raw, int raw2) { return spec(raw, raw2, false); }

    /** A random depthwise geometry; {@code threeByThree}: 3×3 stride 1 or 2 undilated (MobileNet's, with register taps). */
    static ConvSpec spec(int raw, int raw2, boolean threeByThree) {
        java.util.Random r = new java.util.Random(raw * 31L + raw2);
        int c = 2 + r.nextInt(11), kh = 1 + r.nextInt(5), kw = 1 + r.nextInt(5);
        int sh = 1 + r.nextInt(3), sw = 1 + r.nextInt(3), dh = 1 + r.nextInt(2), dw = 1 + r.nextInt(2);
        if (threeByThree) {
            kh = kw = 3;
            dh = dw = 1;
            sh = sw = 1 + r.nextInt(2);
        }
        int pt = r.nextInt(3), pb = r.nextInt(3), pl = r.nextInt(3), pr = r.nextInt(3);
        int h = Math.max(dh * (kh - 1) + 1, 3 + r.nextInt(18)), w = Math.max(dw * (kw - 1) + 1, 3 + r.nextInt(60));
        pt = Math.min(pt, dh * (kh - 1)); pb = Math.min(pb, dh * (kh - 1));
        pl = Math.min(pl, dw * (kw - 1)); pr = Math.min(pr, dw * (kw - 1));
        return new ConvSpec(1 + r.nextInt(2), c, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, c);
    }

    @Test
    void depthwiseForwardMatchesReferenceInBothEntryPoints() {
        checkAgainstReference(120, false);
    }

    /**
     * MobileNet's cases with their own register paths: 3×3 stride 1 (output rows in pairs: odd and even heights,
     * widths below and above a vector) and 3×3 stride 2.
     */
    @Test
    void threeByThreeStrideOneAndTwoMatchReference() {
        checkAgainstReference(80, true);
    }

    private static void checkAgainstReference(int examples, boolean threeByThree) {
        qt().withExamples(examples).forAll(integers().between(0, 999), integers().between(0, 1 << 20)).checkAssert((raw, seed) -> {
            ConvSpec s = spec(raw, seed, threeByThree);
            assertTrue(F32ConvDepthwise.applies(s.geom()), s::toString);
            try (Tensor x = randomF32(seed, s.inputShape()); Tensor w = randomF32(seed + 1, s.weightShape());
                 Tensor b = randomF32(seed + 2, s.outChannels()); Tensor res = randomF32(seed + 3, s.outputShape());
                 Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor b64 = b.to(DType.F64);
                 Tensor res64 = res.to(DType.F64); Tensor ax = abs64(x); Tensor aw = abs64(w); Tensor ab = abs64(b);
                 Tensor ares = abs64(res)) {
                double tol = (s.kernelH() * s.kernelW() + 3) * U;
                for (int mode = 0; mode < 4; mode++) {
                    // 0: plain forward; 1: plan with bias + ReLU in registers; 2: plan with a residual (row pass);
                    // 3: plan with bias + Clip in registers (bounds chosen to cut through the outputs)
                    ActivationFn act = mode == 1 ? ActivationFn.RELU : mode == 3 ? ActivationFn.clip(-0.5f, 0.5f) : ActivationFn.IDENTITY;
                    PostOps post = mode == 2 ? PostOps.NONE.withResidual(res64) : null;
                    Tensor ref = Tensor.zeros(DType.F64, s.outputShape()), abs = Tensor.zeros(DType.F64, s.outputShape());
                    Conv2d.forward(s, ConvAlgorithm.DIRECT, x64, w64, b64, post, ref);
                    Conv2d.forward(s, ConvAlgorithm.DIRECT, ax, aw, ab, mode == 2 ? PostOps.NONE.withResidual(ares) : null, abs);
                    if (!act.isIdentity()) {
                        double lo = mode == 1 ? 0 : act.a(), hi = mode == 1 ? Double.POSITIVE_INFINITY : act.b();
                        double[] v = ref.toDoubleArray();
                        for (int i = 0; i < v.length; i++) v[i] = Math.min(Math.max(v[i], lo), hi);
                        ref.close();
                        ref = Tensor.of(v, s.outputShape());
                    }
                    Tensor y = Tensor.zeros(DType.F32, s.outputShape());
                    if (mode == 0) {
                        Conv2d.forward(s, ConvAlgorithm.DIRECT, x, w, b, null, y);
                    } else {
                        try (ConvPlan plan = ConvPlan.create(s, ConvAlgorithm.DIRECT, w, b, act)) {
                            plan.execute(x, mode == 2 ? res : null, y);
                        }
                    }
                    double ratio = worstRatio(y, ref, abs, tol);
                    int m = mode;
                    assertTrue(ratio <= 1, () -> "mode " + m + " error ratio " + ratio + " for " + s);
                    y.close(); ref.close(); abs.close();
                }
            }
        });
    }
}
