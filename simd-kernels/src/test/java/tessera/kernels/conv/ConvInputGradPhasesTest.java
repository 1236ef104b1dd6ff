package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The input gradient by stride phases ({@link F32ConvInputGradPhases}, AUTO's path for strided dense layers) against
 * the float64 reference for any kernel size, stride, padding and output size, with channel counts below, at and
 * above one and two vectors (so the 6×1 tile, the 6×2 tile and several channel blocks all run) and phases of 1 to 16
 * taps; with a pending addend; and bit for bit the same on one, two and four threads (with fewer images than threads
 * the batch is shared out in rounds instead of image by image).
 */
class ConvInputGradPhasesTest {
    /** Dense (groups 1), dilation 1, stride ≥ 2 down the rows, kernel at least the stride, c and k channels. */
    private static ConvSpec strided(int[] raw, int c, int k) {
        ConvSpec r = ConvTestSupport.spec(raw);
        int sh = Math.max(r.strideH(), 2), sw = r.strideW();
        int kh = Math.max(r.kernelH(), sh), kw = Math.max(r.kernelW(), sw); // every phase has taps
        int extH = kh - 1, extW = kw - 1;
        int pt = Math.min(r.padTop(), extH), pb = Math.min(r.padBottom(), extH - pt);
        int pl = Math.min(r.padLeft(), extW), pr = Math.min(r.padRight(), extW - pl);
        int h = (r.outH() - 1) * sh + extH + 1 - pt - pb + raw[17] % sh;
        int w = (r.outW() - 1) * sw + extW + 1 - pl - pr + raw[18] % sw;
        return new ConvSpec(r.batch(), c, h, w, k, kh, kw, sh, sw, pt, pl, pb, pr, 1, 1, 1);
    }

    @Test
    void inputGradientMatchesTheReference() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                        integers().between(1, 40), integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = strided(raw, c, k);
                    assertTrue(F32ConvInputGradPhases.applies(s.geom()), "path not taken for " + s);
                    ConvPropertiesTest.checkAll(s, seed);
                });
    }

    @Test
    void addsThePendingGradientAndDoesNotDependOnTheThreadCount() {
        int saved = ComputePool.threads();
        try {
            qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                            integers().between(1, 40), integers().between(0, 1 << 20))
                    .checkAssert((raw, c, k, seed) -> {
                        ConvSpec s = strided(raw, c, k);
                        try (Tensor dy = ConvTestSupport.randomF32(seed, s.outputShape());
                             Tensor w = ConvTestSupport.randomF32(seed + 1, s.weightShape());
                             Tensor add = ConvTestSupport.randomF32(seed + 2, s.inputShape());
                             Tensor plain = Tensor.zeros(DType.F32, s.inputShape());
                             Tensor one = Tensor.zeros(DType.F32, s.inputShape());
                             Tensor two = Tensor.zeros(DType.F32, s.inputShape());
                             Tensor four = Tensor.zeros(DType.F32, s.inputShape())) {
                            ComputePool.setThreads(1);
                            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, plain);
                            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, one, add);
                            ComputePool.setThreads(2);
                            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, two, add);
                            ComputePool.setThreads(4); // more threads than images: the three shared rounds
                            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, four, add);
                            float[] p = plain.toFloatArray(), a = add.toFloatArray(), o = one.toFloatArray();
                            for (int i = 0; i < p.length; i++) p[i] += a[i];
                            assertArrayEquals(p, o, "addend, " + s);
                            assertArrayEquals(o, two.toFloatArray(), "2 threads, " + s);
                            assertArrayEquals(o, four.toFloatArray(), "4 threads, " + s);
                        }
                    });
        } finally {
            ComputePool.setThreads(saved);
        }
    }
}
