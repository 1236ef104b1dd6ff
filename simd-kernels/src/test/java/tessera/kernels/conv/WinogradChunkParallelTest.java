package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.PostOps;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The Winograd forward pass that gives each thread whole chunks of images ({@link F32Winograd#sharesOutChunks}) gives
 * the bits of the one that splits each chunk's stages across the threads and of one thread, with bias, residual and
 * ReLU, one or two groups, both tile sizes; and it is taken for batches of several chunks per thread only.
 */
class WinogradChunkParallelTest {
    @Test
    void wholeChunksPerThreadGiveTheSameBits() {
        AtomicInteger taken = new AtomicInteger();
        qt().withExamples(12).forAll(integers().between(4, 9), integers().between(16, 48), integers().between(16, 48),
                        integers().between(0, 1 << 20))
                .checkAssert((n, c, k, seed) -> {
                    int groups = seed % 3 == 0 ? 2 : 1, hw = 20 + seed % 13, pad = seed % 2;
                    ConvSpec s = new ConvSpec(n, c * groups, hw, hw, k * groups, 3, 3, 1, 1, pad, pad, pad, pad, 1, 1, groups);
                    for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.WINOGRAD_F2X3, ConvAlgorithm.WINOGRAD_F4X3}) {
                        float[] one = forward(s, a, seed, 1, taken);
                        assertArrayEquals(one, forward(s, a, seed, 2, taken), a + ", 2 threads, " + s);
                        assertArrayEquals(one, forward(s, a, seed, 3, taken), a + ", 3 threads, " + s);
                    }
                });
        assertTrue(taken.get() >= 12, "whole chunks per thread in " + taken + " of 48 multi-threaded calls");
    }

    /** The forward output with bias, residual and ReLU on {@code threads} threads; counts the calls that share out chunks. */
    private static float[] forward(ConvSpec s, ConvAlgorithm a, long seed, int threads, AtomicInteger wholeChunks) {
        int saved = ComputePool.threads();
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor w = ConvTestSupport.randomF32(seed + 1, s.weightShape());
             Tensor b = ConvTestSupport.randomF32(seed + 2, s.outChannels()); Tensor r = ConvTestSupport.randomF32(seed + 3, s.outputShape());
             Tensor y = Tensor.zeros(DType.F32, s.outputShape())) {
            ComputePool.setThreads(threads);
            boolean taken = F32Winograd.of(a).sharesOutChunks(s.geom());
            if (threads == 1) assertFalse(taken, "one thread never shares out chunks");
            if (taken) wholeChunks.incrementAndGet();
            Conv2d.forward(s, a, x, w, b, new PostOps(ActivationFn.RELU, r), y);
            return y.toFloatArray();
        } finally {
            ComputePool.setThreads(saved);
        }
    }
}
