package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Winograd's two tile blockings — small blocks of tiles split over the threads (transformed filters in cache) and one
 * large block with the threads splitting the output channels (filters streamed from memory, chosen when they exceed
 * half the last-level cache) — perform the same arithmetic per output, so they must agree bit for bit, on one and two
 * threads, for any batch, map size, padding and grouping. The streaming blocking is forced on small layers here
 * through {@link F32Winograd#filterCacheBytes}; on the machines that run CI it otherwise only serves 512-channel layers.
 */
class WinogradFilterStreamingTest {
    @Test
    void streamedFiltersGiveTheSameOutputsAsCachedFilters() {
        qt().withExamples(40).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20), integers().between(1, 2))
                .checkAssert((raw, seed, threads) -> {
                    ConvSpec s = ConvTestSupport.winogradSpec(raw);
                    int n = 1 + raw[0] % 6; // several images: the streaming block spans images
                    ConvSpec sb = new ConvSpec(n, s.inChannels(), s.inH(), s.inW(), s.outChannels(), 3, 3, 1, 1,
                            s.padTop(), s.padLeft(), s.padBottom(), s.padRight(), 1, 1, s.groups());
                    for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.WINOGRAD_F2X3, ConvAlgorithm.WINOGRAD_F4X3})
                        assertSameBothWays(sb, a, seed, threads);
                });
    }

    private static void assertSameBothWays(ConvSpec s, ConvAlgorithm a, long seed, int threads) {
        long saved = F32Winograd.filterCacheBytes;
        int savedThreads = ComputePool.threads();
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor w = ConvTestSupport.randomF32(seed + 1, s.weightShape());
             Tensor b = ConvTestSupport.randomF32(seed + 2, s.outChannels());
             Tensor cached = Tensor.zeros(DType.F32, s.outputShape()); Tensor streamed = Tensor.zeros(DType.F32, s.outputShape())) {
            ComputePool.setThreads(threads);
            F32Winograd.filterCacheBytes = Long.MAX_VALUE;
            Conv2d.forward(s, a, x, w, b, tessera.kernels.PostOps.of(ActivationFn.RELU), cached);
            F32Winograd.filterCacheBytes = 0;
            Conv2d.forward(s, a, x, w, b, tessera.kernels.PostOps.of(ActivationFn.RELU), streamed);
            assertArrayEquals(cached.toFloatArray(), streamed.toFloatArray(), a + " " + s + " on " + threads + " threads");
        } finally {
            F32Winograd.filterCacheBytes = saved;
            ComputePool.setThreads(savedThreads);
        }
    }
}
