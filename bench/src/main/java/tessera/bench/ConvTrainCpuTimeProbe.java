package tessera.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import tessera.kernels.ComputePool;
import tessera.kernels.PostOps;
import tessera.kernels.conv.Conv2d;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * A development probe, not a benchmark to quote: median one-thread <em>CPU time</em> of the forward, input-gradient
 * and weight-gradient convolution (AUTO algorithms, unplanned as autograd calls them) of every distinct ResNet-18
 * convolution at a batch, times the number of such layers in the network, for A/B comparisons of backward kernels
 * under machine load; with {@code small}, the convolutions of {@link TrainingStepBench}'s network instead.
 * With THREADS above 1 it times wall clock instead (the other threads' CPU time is not the calling thread's).
 * {@code java -cp benchmarks.jar tessera.bench.ConvTrainCpuTimeProbe [BATCH] [RUNS] [resnet18|small] [THREADS]}.
 */
public final class ConvTrainCpuTimeProbe {
    private ConvTrainCpuTimeProbe() {}

    /** name, C, H, K, kernel, stride, pad, count in ResNet-18. */
    private static final Object[][] LAYERS = {
            {"conv1 3->64 7x7/2 224", 3, 224, 64, 7, 2, 3, 1},
            {"64->64 3x3 56", 64, 56, 64, 3, 1, 1, 4},
            {"64->128 3x3/2 56", 64, 56, 128, 3, 2, 1, 1},
            {"64->128 1x1/2 56", 64, 56, 128, 1, 2, 0, 1},
            {"128->128 3x3 28", 128, 28, 128, 3, 1, 1, 3},
            {"128->256 3x3/2 28", 128, 28, 256, 3, 2, 1, 1},
            {"128->256 1x1/2 28", 128, 28, 256, 1, 2, 0, 1},
            {"256->256 3x3 14", 256, 14, 256, 3, 1, 1, 3},
            {"256->512 3x3/2 14", 256, 14, 512, 3, 2, 1, 1},
            {"256->512 1x1/2 14", 256, 14, 512, 1, 2, 0, 1},
            {"512->512 3x3 7", 512, 7, 512, 3, 1, 1, 3}};

    /** The same for {@link TrainingStepBench}'s small ResNet-style network (32×32 inputs). */
    private static final Object[][] SMALL_LAYERS = {
            {"stem 3->32 3x3 32", 3, 32, 32, 3, 1, 1, 1},
            {"32->32 3x3 32", 32, 32, 32, 3, 1, 1, 2},
            {"32->64 3x3/2 32", 32, 32, 64, 3, 2, 1, 1},
            {"32->64 1x1/2 32", 32, 32, 64, 1, 2, 0, 1},
            {"64->64 3x3 16", 64, 16, 64, 3, 1, 1, 1}};

    private static int threads = 1;

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 16, runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Object[][] layers = args.length > 2 && args[2].equals("small") ? SMALL_LAYERS : LAYERS;
        threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        ComputePool.setThreads(threads);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        measure(layers, batch, runs, mx, false); // warms every kernel up: with a few calls, the first measured ones ran before C2
        measure(layers, batch, runs, mx, true);
    }

    private static void measure(Object[][] layers, int batch, int runs, ThreadMXBean mx, boolean print) {
        double[] total = new double[3];
        if (print) System.out.printf("%-24s %5s %10s %10s %10s  (ms %s per layer, batch %d, %d thread(s): median, and the fastest call in brackets)%n",
                "layer", "count", "forward", "bwd data", "bwd weight", threads > 1 ? "wall" : "CPU", batch, threads);
        for (Object[] l : layers) {
            ConvSpec s = ConvSpec.of(batch, (int) l[1], (int) l[2], (int) l[3], (int) l[4], (int) l[5], (int) l[6]);
            int count = (int) l[7];
            try (Tensor x = RandomFill.uniform(Tensor.zeros(DType.F32, s.inputShape()), 1, -1, 1);
                 Tensor w = RandomFill.uniform(Tensor.zeros(DType.F32, s.weightShape()), 2, -0.1, 0.1);
                 Tensor y = Tensor.zeros(DType.F32, s.outputShape());
                 Tensor dy = RandomFill.uniform(Tensor.zeros(DType.F32, s.outputShape()), 3, -1, 1);
                 Tensor dx = Tensor.zeros(DType.F32, s.inputShape());
                 Tensor dw = Tensor.zeros(DType.F32, s.weightShape())) {
                Runnable[] ops = {
                        () -> Conv2d.forward(s, ConvAlgorithm.AUTO, x, w, null, PostOps.NONE, y),
                        () -> Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, dx),
                        () -> Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, x, dy, dw, null)};
                double[] med = new double[3], min = new double[3];
                for (int o = 0; o < 3; o++) {
                    ops[o].run();
                    ops[o].run();
                    double[] ms = new double[runs];
                    for (int i = 0; i < runs; i++) {
                        long t0 = now(mx);
                        ops[o].run();
                        ms[i] = (now(mx) - t0) / 1e6;
                    }
                    Arrays.sort(ms);
                    med[o] = ms[runs / 2];
                    min[o] = ms[0];
                    total[o] += med[o] * count;
                }
                if (print) System.out.printf("%-24s %5d %5.2f (%4.2f) %5.2f (%4.2f) %5.2f (%4.2f)%n", l[0], count, med[0], min[0],
                        med[1], min[1], med[2], min[2]);
            }
        }
        if (print) System.out.printf("%-24s %5s %12.2f %12.2f %12.2f  backward/forward %.2f%n", "network total", "", total[0], total[1],
                total[2], (total[1] + total[2]) / total[0]);
    }

    /** Nanoseconds of the calling thread's CPU time on one thread, of wall clock on several. */
    private static long now(ThreadMXBean mx) { return threads > 1 ? System.nanoTime() : mx.getCurrentThreadCpuTime(); }
}
