package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.PostOps;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Winograd's forward pass on several threads runs either whole chunks of images per thread (each through every stage
 * on its own scratch) or every chunk with the threads sharing each stage. Both perform the same arithmetic per output,
 * so with bias, residual and activation fused they must give the one-thread result bit for bit, for any batch, map,
 * padding, grouping and thread count; the input gradient (the same pipeline on dy with the adjoint filters) too.
 * The path is forced through {@link F32Winograd#chunksPerThread}.
 */
class WinogradChunkTasksTest {
    @Test
    void chunksPerThreadGiveTheOneThreadBits() {
        qt().withExamples(40).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20), integers().between(2, 3))
                .checkAssert((raw, seed, threads) -> {
                    ConvSpec s = ConvTestSupport.winogradSpec(raw);
                    int n = 1 + raw[0] % 7; // fewer and more images than threads
                    ConvSpec sb = new ConvSpec(n, s.inChannels(), s.inH(), s.inW(), s.outChannels(), 3, 3, 1, 1,
                            s.padTop(), s.padLeft(), s.padBottom(), s.padRight(), 1, 1, s.groups());
                    for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.WINOGRAD_F2X3, ConvAlgorithm.WINOGRAD_F4X3})
                        assertSameOnEveryPath(sb, a, seed, threads);
                });
    }

    private static void assertSameOnEveryPath(ConvSpec s, ConvAlgorithm a, long seed, int threads) {
        int savedThreads = ComputePool.threads(), saved = F32Winograd.chunksPerThread;
        try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor w = ConvTestSupport.randomF32(seed + 1, s.weightShape());
             Tensor b = ConvTestSupport.randomF32(seed + 2, s.outChannels());
             Tensor r = ConvTestSupport.randomF32(seed + 3, s.outputShape());
             Tensor dy = ConvTestSupport.randomF32(seed + 4, s.outputShape())) {
            PostOps post = PostOps.of(ActivationFn.RELU).withResidual(r);
            ComputePool.setThreads(1);
            float[][] one = run(s, a, x, w, b, post, dy);
            ComputePool.setThreads(threads);
            F32Winograd.chunksPerThread = 0; // whole chunks per thread whenever there are several threads
            float[][] perThread = run(s, a, x, w, b, post, dy);
            F32Winograd.chunksPerThread = Integer.MAX_VALUE; // threads always share each stage
            float[][] shared = run(s, a, x, w, b, post, dy);
            String what = a + " " + s + " on " + threads + " threads";
            assertArrayEquals(one[0], perThread[0], "forward, chunks per thread: " + what);
            assertArrayEquals(one[0], shared[0], "forward, shared stages: " + what);
            assertArrayEquals(one[1], perThread[1], "input gradient, chunks per thread: " + what);
            assertArrayEquals(one[1], shared[1], "input gradient, shared stages: " + what);
        } finally {
            F32Winograd.chunksPerThread = saved;
            ComputePool.setThreads(savedThreads);
        }
    }

    /** {forward output, input gradient} of one configuration. */
    private static float[][] run(ConvSpec s, ConvAlgorithm a, Tensor x, Tensor w, Tensor b, PostOps post, Tensor dy) {
        try (Tensor y = Tensor.zeros(DType.F32, s.outputShape()); Tensor dx = Tensor.zeros(DType.F32, s.inputShape())) {
            Conv2d.forward(s, a, x, w, b, post, y);
            Conv2d.backwardData(s, a, dy, w, dx);
            return new float[][] {y.toFloatArray(), dx.toFloatArray()};
        }
    }
}
