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
 * The channel-last implicit-GEMM weight gradient ({@link F32ConvWeightGradNhwc}: taps in (r, s, c) order in strips
 * of 6, output channels in blocks of one or two vectors, the pixels of chunks of images reduced in registers, then the
 * permutation to [K][C][R][S]) against the float64 reference, for any kernel size, stride, dilation and padding, with
 * channel counts that end strips inside a tap and output-channel counts below, at and above one and two vectors on
 * every species; with the batch split into chunks of single images, so accumulators carry across chunks; and bit for
 * bit the same on one and two threads and for any chunking (each dW element is reduced in one fixed pixel order).
 */
class ConvWeightGradNhwcTest {
    /** The raw spec with groups = 1, c input channels and k output channels. */
    private static ConvSpec dense(int[] raw, int c, int k, int batch) {
        ConvSpec r = ConvTestSupport.spec(raw);
        return new ConvSpec(batch, c, r.inH(), r.inW(), k, r.kernelH(), r.kernelW(), r.strideH(), r.strideW(),
                r.padTop(), r.padLeft(), r.padBottom(), r.padRight(), r.dilationH(), r.dilationW(), 1);
    }

    @Test
    void weightGradientMatchesTheReference() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                        integers().between(1, 40), integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = dense(raw, c, k, 1 + raw[0] % 3);
                    assertTrue(F32ConvIm2col.usesChannelLast(s.geom()) || s.geom().isPointwise(), "path not taken for " + s);
                    ConvPropertiesTest.checkAll(s, seed);
                });
    }

    @Test
    void chunksOfSingleImagesAccumulate() {
        long saved = F32ConvWeightGradNhwc.chunkBudgetBytes;
        try {
            F32ConvWeightGradNhwc.chunkBudgetBytes = 1; // one image per chunk
            qt().withExamples(20).forAll(ConvPropertiesTest.raws(), integers().between(1, 24),
                            integers().between(1, 40), integers().between(0, 1 << 20))
                    .checkAssert((raw, c, k, seed) -> ConvPropertiesTest.checkAll(dense(raw, c, k, 2 + raw[1] % 3), seed));
        } finally {
            F32ConvWeightGradNhwc.chunkBudgetBytes = saved;
        }
    }

    @Test
    void threadsAndChunkingDoNotChangeTheBits() {
        qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                        integers().between(1, 70), integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = dense(raw, c, k, 1 + raw[1] % 4);
                    if (!F32ConvIm2col.usesChannelLast(s.geom())) return;
                    float[] oneThread = weightGradient(s, seed, 1, Long.MAX_VALUE);
                    assertArrayEquals(oneThread, weightGradient(s, seed, 2, Long.MAX_VALUE), "2 threads, " + s);
                    assertArrayEquals(oneThread, weightGradient(s, seed, 2, 1), "2 threads, one image per chunk, " + s);
                });
    }

    private static float[] weightGradient(ConvSpec s, long seed, int threads, long chunkBytes) {
        long savedBudget = F32ConvWeightGradNhwc.chunkBudgetBytes;
        int savedThreads = ComputePool.threads();
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor dy = ConvTestSupport.randomF32(seed + 3, s.outputShape());
             Tensor dw = Tensor.zeros(DType.F32, s.weightShape())) {
            ComputePool.setThreads(threads);
            F32ConvWeightGradNhwc.chunkBudgetBytes = chunkBytes;
            Conv2d.backwardWeights(s, ConvAlgorithm.IM2COL, x, dy, dw, null);
            return dw.toFloatArray();
        } finally {
            F32ConvWeightGradNhwc.chunkBudgetBytes = savedBudget;
            ComputePool.setThreads(savedThreads);
        }
    }
}
