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
 * The row-vectorized weight gradient ({@link F32ConvWeightGradRows}, which AUTO picks for dense layers wider than
 * 1×1 with C below one vector, K ≥ 16, column stride 1 or 2 — its input split into column phases — and output rows
 * of whole vectors) against the
 * float64 reference, for any kernel size, row stride, dilation and padding, output-channel counts that end a block
 * of the register tile early and tap counts that end a strip early; with the batch split into chunks of single
 * images, so the accumulators carry across chunks; and bit for bit the same on one and two threads, for any
 * chunking and with either register tile.
 */
class ConvWeightGradRowsTest {
    private static final int VL = tessera.kernels.Species.FLOAT.length();

    /**
     * A spec the kernel applies to: c folded below VL input channels, k outputs, column stride 1 or 2, Q a whole
     * number of vectors, never 1×1.
     */
    static ConvSpec rowsSpec(int[] raw, int c, int k, int batch) {
        ConvSpec r = ConvTestSupport.spec(raw);
        int sw = 1 + raw[8] % 2, cin = 1 + (c - 1) % (VL - 1);
        int kh = r.kernelH(), s = r.kernelW() == 1 && kh == 1 ? 2 : r.kernelW(), dw = r.dilationW(), extW = dw * (s - 1);
        int pl = Math.min(r.padLeft(), extW), pr = Math.min(r.padRight(), extW - pl);
        int q = VL * (1 + raw[12] % 3), w = (q - 1) * sw + extW + 1 - pl - pr;
        return new ConvSpec(batch, cin, r.inH(), w, k, kh, s, r.strideH(), sw, r.padTop(), pl, r.padBottom(), pr,
                r.dilationH(), dw, 1);
    }

    @Test
    void weightGradientMatchesTheReference() {
        qt().withExamples(50).forAll(ConvPropertiesTest.raws(), integers().between(1, 24), integers().between(16, 41),
                        integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = rowsSpec(raw, c, k, 1 + raw[0] % 3);
                    assertTrue(F32ConvWeightGradRows.applies(s.geom()) && Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO,
                            s.geom()) == ConvAlgorithm.IM2COL, "path not taken for " + s);
                    ConvPropertiesTest.checkAll(s, seed);
                });
    }

    @Test
    void chunksOfSingleImagesAccumulate() {
        long saved = F32ConvWeightGradRows.chunkBudgetBytes;
        try {
            F32ConvWeightGradRows.chunkBudgetBytes = 1; // one image per chunk
            qt().withExamples(20).forAll(ConvPropertiesTest.raws(), integers().between(1, 24), integers().between(16, 41),
                            integers().between(0, 1 << 20))
                    .checkAssert((raw, c, k, seed) -> ConvPropertiesTest.checkAll(rowsSpec(raw, c, k, 2 + raw[1] % 3), seed));
        } finally {
            F32ConvWeightGradRows.chunkBudgetBytes = saved;
        }
    }

    @Test
    void threadsAndChunkingDoNotChangeTheBits() {
        qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(1, 24), integers().between(16, 41),
                        integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = rowsSpec(raw, c, k, 1 + raw[1] % 4);
                    float[] oneThread = weightGradient(s, seed, 1, Long.MAX_VALUE);
                    assertArrayEquals(oneThread, weightGradient(s, seed, 2, Long.MAX_VALUE), "2 threads, " + s);
                    assertArrayEquals(oneThread, weightGradient(s, seed, 2, 1), "2 threads, one image per chunk, " + s);
                });
    }

    /** The 16-register tile (2 output channels × 6 taps) on any machine: against the reference and the same bits. */
    @Test
    void theTwoChannelTileMatchesTheFourChannelTile() {
        int saved = F32ConvWeightGradRows.kr;
        qt().withExamples(20).forAll(ConvPropertiesTest.raws(), integers().between(1, 24), integers().between(16, 41),
                        integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = rowsSpec(raw, c, k, 1 + raw[1] % 3);
                    try {
                        F32ConvWeightGradRows.kr = 4;
                        float[] four = weightGradient(s, seed, 2, Long.MAX_VALUE);
                        F32ConvWeightGradRows.kr = 2;
                        assertArrayEquals(four, weightGradient(s, seed, 2, Long.MAX_VALUE), "2-channel tile, " + s);
                        ConvPropertiesTest.checkAll(s, seed);
                    } finally {
                        F32ConvWeightGradRows.kr = saved;
                    }
                });
    }

    private static float[] weightGradient(ConvSpec s, long seed, int threads, long chunkBytes) {
        long savedBudget = F32ConvWeightGradRows.chunkBudgetBytes;
        int savedThreads = ComputePool.threads();
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor dy = ConvTestSupport.randomF32(seed + 3, s.outputShape());
             Tensor dw = Tensor.zeros(DType.F32, s.weightShape())) {
            ComputePool.setThreads(threads);
            F32ConvWeightGradRows.chunkBudgetBytes = chunkBytes;
            Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, x, dy, dw, null);
            return dw.toFloatArray();
        } finally {
            F32ConvWeightGradRows.chunkBudgetBytes = savedBudget;
            ComputePool.setThreads(savedThreads);
        }
    }
}
