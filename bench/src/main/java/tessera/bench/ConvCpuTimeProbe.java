package tessera.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

import tessera.kernels.Activation;
import tessera.kernels.ComputePool;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvPlan;
import tessera.kernels.conv.ConvSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * A development probe, not a benchmark to quote: the median <em>thread CPU time</em> of one {@link ConvBench} layer on
 * one thread, for A/B comparisons of a kernel change while other processes load the machine (wall-clock JMH scores
 * are then meaningless; CPU time is disturbed only through shared caches). Figures for reports come from JMH.
 * {@code java -cp benchmarks.jar tessera.bench.ConvCpuTimeProbe LAYER ALGO BATCH [RUNS]}; {@code -Dprobe.nobias=true}
 * plans without a bias (no GEMM epilogue), to price the epilogue.
 */
public final class ConvCpuTimeProbe {
    private ConvCpuTimeProbe() {}

    public static void main(String[] args) {
        String layer = args[0], algo = args[1];
        int batch = Integer.parseInt(args[2]), runs = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        ComputePool.setThreads(1);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        ConvSpec s = ConvBench.spec(layer, batch);
        try (Tensor x = RandomFill.uniform(Tensor.zeros(DType.F32, s.inputShape()), 1, -1, 1);
             Tensor w = RandomFill.uniform(Tensor.zeros(DType.F32, s.weightShape()), 2, -0.1, 0.1);
             Tensor b = RandomFill.uniform(Tensor.zeros(DType.F32, s.outChannels()), 3, -0.1, 0.1);
             Tensor y = Tensor.zeros(DType.F32, s.outputShape());
             ConvPlan plan = ConvPlan.create(s, ConvBench.algorithm(algo), w, Boolean.getBoolean("probe.nobias") ? null : b, Boolean.getBoolean("probe.relu") ? Activation.RELU : Activation.IDENTITY, 0f)) {
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < warmEnd) plan.execute(x, null, y);
            double[] ms = new double[runs];
            com.sun.management.ThreadMXBean heap = (com.sun.management.ThreadMXBean) mx;
            long a0 = heap.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < runs; i++) {
                long t0 = mx.getCurrentThreadCpuTime();
                plan.execute(x, null, y);
                ms[i] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
            }
            long heapPerRun = (heap.getCurrentThreadAllocatedBytes() - a0) / runs;
            Arrays.sort(ms);
            double med = ms[runs / 2];
            System.out.printf("%s %s batch %d: median CPU %.3f ms (min %.3f), %.1f GFLOP/s of CPU time, %d heap bytes per run%n",
                    layer, plan.describe(), batch, med, ms[0], s.flops() / med / 1e6, heapPerRun);
        }
    }
}
