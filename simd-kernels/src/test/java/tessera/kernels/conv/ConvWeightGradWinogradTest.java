package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The Winograd-domain weight gradient ({@link F32WinogradWeightGrad}) against the float64 reference (through
 * {@link ConvPropertiesTest#checkAll}, with Winograd's documented error floor) for dense 3×3 stride-1 layers of any
 * padding and output size, channel counts that end a 6-channel strip early and output-channel counts below, at and
 * above one and two vectors on every species; with chunks of single images, so accumulators carry across chunks; bit
 * for bit the same on one and two threads and for any chunking, with one sum or partial sums over runs of images (every
 * sum formed in one fixed order); and picked by
 * AUTO for the layers it serves.
 */
class ConvWeightGradWinogradTest {
    /** A dense Winograd-shaped spec with c input channels, k output channels and the given batch. */
    private static ConvSpec dense(int[] raw, int c, int k, int batch) {
        ConvSpec r = ConvTestSupport.winogradSpec(raw);
        return new ConvSpec(batch, c, r.inH(), r.inW(), k, 3, 3, 1, 1, r.padTop(), r.padLeft(), r.padBottom(),
                r.padRight(), 1, 1, 1);
    }

    @Test
    void weightGradientMatchesTheReference() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                        integers().between(1, 70), integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = dense(raw, c, k, 1 + raw[0] % 3);
                    assertTrue(F32WinogradWeightGrad.applies(s.geom()), "path not taken for " + s);
                    ConvPropertiesTest.checkAll(s, seed);
                });
    }

    @Test
    void chunksOfSingleImagesAccumulate() {
        long saved = F32WinogradWeightGrad.chunkBudgetBytes;
        int savedPartials = F32WinogradWeightGrad.maxPartials;
        try {
            F32WinogradWeightGrad.chunkBudgetBytes = 1; // one image per chunk
            qt().withExamples(20).forAll(ConvPropertiesTest.raws(), integers().between(1, 24),
                            integers().between(1, 40), integers().between(0, 1 << 20))
                    .checkAssert((raw, c, k, seed) -> {
                        int partials = 1 + seed % 2;
                        F32WinogradWeightGrad.maxPartials = partials; // runs of 2–4 images
                        ConvPropertiesTest.checkAll(dense(raw, c, k, 2 * partials + raw[1] % 3), seed);
                    });
        } finally {
            F32WinogradWeightGrad.chunkBudgetBytes = saved;
            F32WinogradWeightGrad.maxPartials = savedPartials;
        }
    }

    @Test
    void oneSumSplitAcrossThreadsMatchesTheReference() {
        int saved = F32WinogradWeightGrad.maxPartials;
        try {
            F32WinogradWeightGrad.maxPartials = 1; // the threads split rows, tiles and points of each chunk
            qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(1, 24),
                            integers().between(1, 40), integers().between(0, 1 << 20))
                    .checkAssert((raw, c, k, seed) -> ConvPropertiesTest.checkAll(dense(raw, c, k, 1 + raw[1] % 3), seed));
        } finally {
            F32WinogradWeightGrad.maxPartials = saved;
        }
    }

    @Test
    void threadsAndChunkingDoNotChangeTheBits() {
        qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(1, 40),
                        integers().between(1, 70), integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec s = dense(raw, c, k, 1 + raw[1] % 4);
                    for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.WINOGRAD_F2X3, ConvAlgorithm.WINOGRAD_F4X3})
                        for (int partials : new int[] {1, 8}) {
                            String what = a + ", at most " + partials + " partial sums, ";
                            float[] oneThread = weightGradient(s, a, seed, 1, Long.MAX_VALUE, partials);
                            assertArrayEquals(oneThread, weightGradient(s, a, seed, 2, Long.MAX_VALUE, partials), what + "2 threads, " + s);
                            assertArrayEquals(oneThread, weightGradient(s, a, seed, 2, 1, partials), what + "2 threads, one image per chunk, " + s);
                        }
                });
    }

    @Test
    void autoPicksItForDenseThreeByThreeLayersOfSixteenChannelsOrMore() {
        ConvSpec resnet = new ConvSpec(16, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        assertTrue(Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO, resnet.geom()) == ConvAlgorithm.WINOGRAD_F4X3);
        ConvSpec resnetLayer4 = new ConvSpec(16, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1); // F4 from 4×4 maps
        assertTrue(Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO, resnetLayer4.geom()) == ConvAlgorithm.WINOGRAD_F4X3);
        assertTrue(Conv2d.resolveBackwardData(ConvAlgorithm.AUTO, resnetLayer4.geom()) == ConvAlgorithm.WINOGRAD_F4X3);
        ConvSpec small = new ConvSpec(16, 64, 3, 3, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        assertTrue(Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO, small.geom()) == ConvAlgorithm.WINOGRAD_F2X3);
        assertTrue(Conv2d.resolveBackwardData(ConvAlgorithm.AUTO, small.geom()) == ConvAlgorithm.WINOGRAD_F2X3);
        ConvSpec strided = new ConvSpec(16, 32, 32, 32, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);
        assertTrue(Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO, strided.geom()) == ConvAlgorithm.IM2COL);
        ConvSpec grouped = new ConvSpec(2, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2);
        assertTrue(!F32WinogradWeightGrad.applies(grouped.geom()));
        assertThrows(IllegalArgumentException.class, () -> F32WinogradWeightGrad.backwardWeights(F32Winograd.F4,
                grouped.geom(), null, 0, null, 0, null, 0));
    }

    private static float[] weightGradient(ConvSpec s, ConvAlgorithm a, long seed, int threads, long chunkBytes, int partials) {
        long savedBudget = F32WinogradWeightGrad.chunkBudgetBytes;
        int savedThreads = ComputePool.threads(), savedPartials = F32WinogradWeightGrad.maxPartials;
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor dy = ConvTestSupport.randomF32(seed + 3, s.outputShape());
             Tensor dw = Tensor.zeros(DType.F32, s.weightShape())) {
            ComputePool.setThreads(threads);
            F32WinogradWeightGrad.chunkBudgetBytes = chunkBytes;
            F32WinogradWeightGrad.maxPartials = partials;
            Conv2d.backwardWeights(s, a, x, dy, dw, null);
            return dw.toFloatArray();
        } finally {
            F32WinogradWeightGrad.chunkBudgetBytes = savedBudget;
            F32WinogradWeightGrad.maxPartials = savedPartials;
            ComputePool.setThreads(savedThreads);
        }
    }
}
