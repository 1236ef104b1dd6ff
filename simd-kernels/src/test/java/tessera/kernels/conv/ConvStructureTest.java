package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static tessera.kernels.conv.ConvTestSupport.pick;
import static tessera.kernels.conv.ConvTestSupport.randomF32;

import org.junit.jupiter.api.Test;

import tessera.kernels.Activation;
import tessera.kernels.PostOps;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Adjointness, translation equivariance, transposed convolution, plans and argument validation. */
class ConvStructureTest {

    static double dot(Tensor a, Tensor b) {
        double[] x = a.to(DType.F64).toDoubleArray(), y = b.to(DType.F64).toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    static double absDot(Tensor a, Tensor b) {
        double[] x = a.to(DType.F64).toDoubleArray(), y = b.to(DType.F64).toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += Math.abs(x[i] * y[i]);
        return s;
    }

    /** ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩: float64 to 1e-12 relative, float32 (every algorithm) to 1e-5 of ⟨|conv(x)|,|y|⟩. */
    @Test
    void transposedConvolutionIsTheAdjoint() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20)).checkAssert((raw, seed) -> {
            ConvSpec s = raw[1] % 3 == 0 ? ConvTestSupport.winogradSpec(raw) : ConvTestSupport.spec(raw);
            try (Tensor x = randomF32(seed, s.inputShape()); Tensor w = randomF32(seed + 1, s.weightShape());
                 Tensor y = randomF32(seed + 2, s.outputShape())) {
                Tensor x64 = x.to(DType.F64), w64 = w.to(DType.F64), y64 = y.to(DType.F64);
                Tensor cx = Tensor.zeros(DType.F64, s.outputShape()), ty = Tensor.zeros(DType.F64, s.inputShape());
                Conv2d.forward(s, ConvAlgorithm.AUTO, x64, w64, null, null, cx);
                Conv2d.backwardData(s, ConvAlgorithm.AUTO, y64, w64, ty);
                double lhs = dot(cx, y64), rhs = dot(x64, ty), scale = absDot(cx, y64) + 1e-300;
                assertTrue(Math.abs(lhs - rhs) <= 1e-12 * scale + 1e-300, () -> "f64 adjoint " + lhs + " vs " + rhs + " for " + s);
                for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                    Tensor c32 = Tensor.zeros(DType.F32, s.outputShape()), t32 = Tensor.zeros(DType.F32, s.inputShape());
                    Conv2d.forward(s, a, x, w, null, null, c32);
                    Conv2d.backwardData(s, a, y, w, t32);
                    double l = dot(c32, y), r = dot(x, t32), sc = absDot(c32, y) + absDot(x, t32);
                    assertTrue(Math.abs(l - r) <= 1e-5 * sc + 1e-30, () -> a + " adjoint " + l + " vs " + r + " for " + s);
                    c32.close(); t32.close();
                }
            }
        });
    }

    /**
     * Shifting the input by (dp·sh, dq·sw) shifts the output by (dp, dq): compared at outputs whose receptive fields
     * lie inside both inputs without touching padding; direct/im2col exactly (same arithmetic), Winograd (whose tiles
     * move relative to the data) within twice its documented error floor, 2·E·u·C/g·R·S.
     */
    @Test
    void convolutionIsTranslationEquivariant() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20)).checkAssert((raw, seed) -> {
            ConvSpec base = raw[1] % 3 == 0 ? ConvTestSupport.winogradSpec(raw) : ConvTestSupport.spec(raw);
            int dp = pick(raw[17], 1, 2), dq = pick(raw[18], 0, 2);
            // grow the input so that the shifted copy fits and some outputs stay interior
            int h = base.inH() + dp * base.strideH() + 2 * base.dilationH() * base.kernelH(), w = base.inW() + dq * base.strideW() + 2 * base.dilationW() * base.kernelW();
            ConvSpec s = new ConvSpec(base.batch(), base.inChannels(), h, w, base.outChannels(), base.kernelH(), base.kernelW(),
                    base.strideH(), base.strideW(), base.padTop(), base.padLeft(), base.padBottom(), base.padRight(),
                    base.dilationH(), base.dilationW(), base.groups());
            int sh = s.strideH(), sw = s.strideW();
            try (Tensor x = randomF32(seed, s.inputShape()); Tensor wt = randomF32(seed + 1, s.weightShape());
                 Tensor xs = randomF32(seed + 5, s.inputShape())) {
                for (int n = 0; n < s.batch(); n++)
                    for (int c = 0; c < s.inChannels(); c++)
                        for (int i = dp * sh; i < h; i++)
                            for (int j = dq * sw; j < w; j++) xs.set(x.getDouble(n, c, i - dp * sh, j - dq * sw), n, c, i, j);
                for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                    Tensor y = Tensor.zeros(DType.F32, s.outputShape()), ys = Tensor.zeros(DType.F32, s.outputShape());
                    Conv2d.forward(s, a, x, wt, null, null, y);
                    Conv2d.forward(s, a, xs, wt, null, null, ys);
                    int extH = s.dilationH() * (s.kernelH() - 1), extW = s.dilationW() * (s.kernelW() - 1);
                    ConvAlgorithm eff = a == ConvAlgorithm.AUTO ? ConvAlgorithmSelector.choose(s) : a;
                    boolean exact = eff == ConvAlgorithm.DIRECT || eff == ConvAlgorithm.IM2COL;
                    // |x|, |w| ≤ 1, so Σ|terms| ≤ L = C/g·R·S: twice Winograd's documented error floor E·u·Σ|terms|
                    double termBound = (double) (s.inChannels() / s.groups()) * s.kernelH() * s.kernelW();
                    int compared = 0;
                    for (int p = dp; p < s.outH(); p++) {
                        int top = (p - dp) * sh - s.padTop();
                        if (top < 0 || top + extH >= h - dp * sh) continue;
                        for (int q = dq; q < s.outW(); q++) {
                            int left = (q - dq) * sw - s.padLeft();
                            if (left < 0 || left + extW >= w - dq * sw) continue;
                            for (int n = 0; n < s.batch(); n++)
                                for (int k = 0; k < s.outChannels(); k++) {
                                    double u = y.getDouble(n, k, p - dp, q - dq), v = ys.getDouble(n, k, p, q);
                                    double tol = exact ? 0 : 2 * ConvPropertiesTest.factor(eff) * ConvTestSupport.U * termBound;
                                    int pp = p, qq = q;
                                    assertTrue(Math.abs(u - v) <= tol, () -> a + " not equivariant at " + pp + "," + qq + ": " + u + " vs " + v + " for " + s);
                                    compared++;
                                }
                        }
                    }
                    assertTrue(compared > 0, "no interior outputs compared for " + s);
                    y.close(); ys.close();
                }
            }
        });
    }

    /** ConvTranspose2d (F64 and F32) against a scatter-form reference written from PyTorch's definition. */
    @Test
    void transposedConvolutionMatchesScatterReference() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20)).checkAssert((raw, seed) -> {
            int n = pick(raw[0], 1, 2), groups = pick(raw[1], 1, 2), cin = groups * pick(raw[3], 1, 3), cout = groups * pick(raw[4], 1, 3);
            int r = pick(raw[5], 1, 4), s = pick(raw[6], 1, 4), sh = pick(raw[7], 1, 3), sw = pick(raw[8], 1, 3);
            int dh = pick(raw[9], 1, 2), dw = pick(raw[10], 1, 2), h = pick(raw[11], 1, 5), w = pick(raw[12], 1, 5);
            int pt = pick(raw[13], 0, 2), pl = pick(raw[15], 0, 2), pb = pick(raw[14], 0, 2), pr = pick(raw[16], 0, 2);
            int oph = pick(raw[17], 0, Math.max(sh, dh) - 1), opw = pick(raw[18], 0, Math.max(sw, dw) - 1);
            long oh = (long) (h - 1) * sh - pt - pb + dh * (r - 1) + oph + 1, ow = (long) (w - 1) * sw - pl - pr + dw * (s - 1) + opw + 1;
            if (oh < 1 || ow < 1) { pt = pb = pl = pr = 0; }
            ConvTransposeSpec t = new ConvTransposeSpec(n, cin, h, w, cout, r, s, sh, sw, pt, pl, pb, pr, oph, opw, dh, dw, groups);
            try (Tensor x = randomF32(seed, t.inputShape()); Tensor wt = randomF32(seed + 1, t.weightShape());
                 Tensor b = randomF32(seed + 2, cout)) {
                double[] ref = scatterReference(t, x, wt, b);
                Tensor y64 = Tensor.zeros(DType.F64, t.outputShape());
                ConvTranspose2d.forward(t, x.to(DType.F64), wt.to(DType.F64), b.to(DType.F64), y64);
                Tensor y32 = Tensor.zeros(DType.F32, t.outputShape());
                ConvTranspose2d.forward(t, x, wt, b, y32);
                double[] g64 = y64.toDoubleArray(), g32 = y32.to(DType.F64).toDoubleArray();
                for (int i = 0; i < ref.length; i++) {
                    int ii = i;
                    assertTrue(Math.abs(g64[i] - ref[i]) <= 1e-12 * (1 + Math.abs(ref[i])), () -> "f64 convT at " + ii + " for " + t);
                    assertTrue(Math.abs(g32[i] - ref[i]) <= 1e-5 * (1 + Math.abs(ref[i])) * r * s * cin, () -> "f32 convT at " + ii + " for " + t);
                }
            }
        });
    }

    static double[] scatterReference(ConvTransposeSpec t, Tensor x, Tensor w, Tensor b) {
        int oh = t.outH(), ow = t.outW(), cinG = t.inChannels() / t.groups(), coutG = t.outChannels() / t.groups();
        double[] y = new double[t.batch() * t.outChannels() * oh * ow];
        for (int n = 0; n < t.batch(); n++)
            for (int co = 0; co < t.outChannels(); co++)
                for (int i = 0; i < oh * ow; i++) y[(n * t.outChannels() + co) * oh * ow + i] = b.getDouble(co);
        for (int n = 0; n < t.batch(); n++)
            for (int ci = 0; ci < t.inChannels(); ci++) {
                int g = ci / cinG;
                for (int ih = 0; ih < t.inH(); ih++)
                    for (int iw = 0; iw < t.inW(); iw++)
                        for (int c = 0; c < coutG; c++)
                            for (int r = 0; r < t.kernelH(); r++)
                                for (int s = 0; s < t.kernelW(); s++) {
                                    int y0 = ih * t.strideH() - t.padTop() + r * t.dilationH();
                                    int x0 = iw * t.strideW() - t.padLeft() + s * t.dilationW();
                                    if (y0 < 0 || y0 >= oh || x0 < 0 || x0 >= ow) continue;
                                    int co = g * coutG + c;
                                    y[((n * t.outChannels() + co) * oh + y0) * ow + x0] += x.getDouble(n, ci, ih, iw) * w.getDouble(ci, c, r, s);
                                }
            }
        return y;
    }

    /** ConvTranspose2d backward = gradients of ⟨convT(x), dy⟩, checked against Conv2d's forward and weight gradient. */
    @Test
    void transposedConvolutionGradientsAreConsistent() {
        ConvTransposeSpec t = new ConvTransposeSpec(2, 4, 5, 6, 6, 3, 2, 2, 1, 1, 0, 0, 1, 1, 0, 1, 1, 2);
        try (Tensor x = randomF32(1, t.inputShape()); Tensor w = randomF32(2, t.weightShape()); Tensor dy = randomF32(3, t.outputShape())) {
            for (DType d : new DType[] {DType.F64, DType.F32}) {
                Tensor xd = x.to(d), wd = w.to(d), dyd = dy.to(d);
                Tensor y = Tensor.zeros(d, t.outputShape()), dx = Tensor.zeros(d, t.inputShape());
                Tensor dw = Tensor.zeros(d, t.weightShape()), db = Tensor.zeros(d, t.outChannels());
                ConvTranspose2d.forward(t, xd, wd, null, y);
                ConvTranspose2d.backwardData(t, dyd, wd, dx);
                ConvTranspose2d.backwardWeights(t, xd, dyd, dw, db);
                double tol = d == DType.F64 ? 1e-10 : 1e-3;
                // ⟨convT(x), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩ (linear in x and in w)
                assertEquals(dot(y, dyd), dot(xd, dx), tol * (1 + Math.abs(dot(y, dyd))));
                assertEquals(dot(y, dyd), dot(wd, dw), tol * (1 + Math.abs(dot(y, dyd))));
                for (int c = 0; c < t.outChannels(); c++) {
                    double sum = 0;
                    for (int n = 0; n < t.batch(); n++)
                        for (int i = 0; i < t.outH(); i++)
                            for (int j = 0; j < t.outW(); j++) sum += dyd.getDouble(n, c, i, j);
                    assertEquals(sum, db.getDouble(c), tol * 10);
                }
            }
        }
    }

    @Test
    void planRunsAnyBatchAndMatchesConv2d() {
        ConvSpec s = new ConvSpec(2, 16, 11, 9, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        try (Tensor w = randomF32(1, s.weightShape()); Tensor b = randomF32(2, 24)) {
            for (ConvAlgorithm a : ConvAlgorithm.values()) {
                try (ConvPlan plan = ConvPlan.create(s, a, w, b, Activation.RELU, 0f)) {
                    assertTrue(plan.algorithm() != ConvAlgorithm.AUTO);
                    for (int n : new int[] {1, 3}) {
                        ConvSpec sn = s.withBatch(n);
                        try (Tensor x = randomF32(7 + n, sn.inputShape()); Tensor y1 = Tensor.zeros(DType.F32, sn.outputShape());
                             Tensor y2 = Tensor.zeros(DType.F32, sn.outputShape())) {
                            plan.execute(x, null, y1);
                            Conv2d.forward(sn, plan.algorithm(), x, w, b, PostOps.RELU, y2);
                            float[] u = y1.toFloatArray(), v = y2.toFloatArray();
                            for (int i = 0; i < u.length; i++) assertEquals(v[i], u[i], 1e-5f * (1 + Math.abs(v[i])), a + " plan vs conv");
                        }
                    }
                }
            }
        }
    }

    @Test
    void invalidConfigurationsAreRejectedNamingTheParameter() {
        expect("groups", () -> new ConvSpec(1, 6, 8, 8, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 4));
        expect("outChannels", () -> new ConvSpec(1, 4, 8, 8, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 4));
        expect("kernelH", () -> new ConvSpec(1, 1, 4, 8, 1, 6, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1));
        expect("kernelW", () -> new ConvSpec(1, 1, 8, 4, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 3, 1));
        expect("strideH", () -> new ConvSpec(1, 1, 8, 8, 1, 3, 3, 0, 1, 0, 0, 0, 0, 1, 1, 1));
        expect("strideW", () -> new ConvSpec(1, 1, 8, 8, 1, 3, 3, 1, 0, 0, 0, 0, 0, 1, 1, 1));
        expect("dilationH", () -> new ConvSpec(1, 1, 8, 8, 1, 3, 3, 1, 1, 0, 0, 0, 0, 0, 1, 1));
        expect("padLeft", () -> new ConvSpec(1, 1, 8, 8, 1, 3, 3, 1, 1, 0, -1, 0, 0, 1, 1, 1));
        expect("batch", () -> new ConvSpec(0, 1, 8, 8, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1));
        expect("outputPadH", () -> new ConvTransposeSpec(1, 1, 4, 4, 1, 3, 3, 2, 2, 0, 0, 0, 0, 2, 0, 1, 1, 1));
        expect("outputPadW", () -> new ConvTransposeSpec(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1));
        ConvSpec s = ConvSpec.of(1, 4, 8, 4, 5, 1, 0);
        try (Tensor x = Tensor.zeros(1, 4, 8, 8); Tensor w = Tensor.zeros(4, 4, 5, 5); Tensor y = Tensor.zeros(1, 4, 4, 4);
             Tensor bad = Tensor.zeros(1, 4, 5, 4)) {
            expect("WINOGRAD_F4X3", () -> Conv2d.forward(s, ConvAlgorithm.WINOGRAD_F4X3, x, w, null, null, y));
            expect("WINOGRAD_F2X3", () -> ConvPlan.create(s, ConvAlgorithm.WINOGRAD_F2X3, w, null, Activation.IDENTITY, 0f));
            expect("y has shape", () -> Conv2d.forward(s, ConvAlgorithm.DIRECT, x, w, null, null, bad));
            expect("w has shape", () -> Conv2d.forward(s, ConvAlgorithm.DIRECT, x, bad, null, null, y));
            expect("dtype", () -> Conv2d.forward(s, ConvAlgorithm.DIRECT, x, w.to(DType.F64), null, null, y));
        }
    }

    static void expect(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' should name " + fragment);
    }
}
