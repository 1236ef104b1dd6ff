package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Planned pointwise convolutions on small maps run as {@code Yᵀ = Xᵀ·Wᵀ} ({@link F32ConvPointwiseTransposed}):
 * against the float64 reference over random channel counts (output channels from two vectors up), groups, maps of
 * 1 to 64 pixels, planned at batch 1 and run at batch 1 to 3, with bias + ReLU or Clip in the GEMM's store and with a residual after the
 * transpose; the plan reports the transposed form.
 */
class ConvPointwiseTransposedTest {

    @Test
    void transposedPointwisePlansMatchTheReference() {
        qt().withExamples(60).forAll(integers().between(0, 999), integers().between(0, 1 << 20)).checkAssert((raw, seed) -> {
            java.util.Random r = new java.util.Random(raw * 131L + seed);
            int groups = 1 + r.nextInt(2), cg = 1 + r.nextInt(40), kg = 2 * tessera.kernels.Species.FLOAT.length() + r.nextInt(50);
            int p = 1 + r.nextInt(8), q = 1 + r.nextInt(64 / p);
            int batch = 1 + r.nextInt(3);
            ConvSpec planned = new ConvSpec(1, cg * groups, p, q, kg * groups, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, groups);
            ConvSpec s = new ConvSpec(batch, cg * groups, p, q, kg * groups, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, groups);
            assertTrue(F32ConvPointwiseTransposed.applies(planned.geom()), planned::toString);
            int mode = r.nextInt(3); // 0: bias + ReLU, 1: bias + Clip, 2: bias + residual + ReLU
            ActivationFn act = mode == 1 ? ActivationFn.clip(-0.3f, 0.4f) : ActivationFn.RELU;
            try (Tensor x = randomF32(seed, s.inputShape()); Tensor w = randomF32(seed + 1, s.weightShape());
                 Tensor b = randomF32(seed + 2, s.outChannels()); Tensor res = randomF32(seed + 3, s.outputShape());
                 Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor b64 = b.to(DType.F64);
                 Tensor res64 = res.to(DType.F64); Tensor ax = abs64(x); Tensor aw = abs64(w); Tensor ab = abs64(b);
                 Tensor ares = abs64(res);
                 Tensor ref = Tensor.zeros(DType.F64, s.outputShape()); Tensor abs = Tensor.zeros(DType.F64, s.outputShape());
                 Tensor y = Tensor.zeros(DType.F32, s.outputShape());
                 ConvPlan plan = ConvPlan.create(planned, ConvAlgorithm.IM2COL, w, b, act)) {
                assertEquals("gemm|transposed@b1", plan.describe());
                PostOps post = mode == 2 ? PostOps.NONE.withResidual(res64) : null;
                Conv2d.forward(s, ConvAlgorithm.DIRECT, x64, w64, b64, post, ref);
                Conv2d.forward(s, ConvAlgorithm.DIRECT, ax, aw, ab, mode == 2 ? PostOps.NONE.withResidual(ares) : null, abs);
                double[] v = ref.toDoubleArray();
                double lo = mode == 1 ? act.a() : 0, hi = mode == 1 ? act.b() : Double.POSITIVE_INFINITY;
                for (int i = 0; i < v.length; i++) v[i] = Math.min(Math.max(v[i], lo), hi);
                try (Tensor clamped = Tensor.of(v, s.outputShape())) {
                    plan.execute(x, mode == 2 ? res : null, y);
                    double ratio = worstRatio(y, clamped, abs, (cg + 3) * U);
                    assertTrue(ratio <= 1, () -> "mode " + mode + " error ratio " + ratio + " for " + s);
                }
            }
        });
    }
}
