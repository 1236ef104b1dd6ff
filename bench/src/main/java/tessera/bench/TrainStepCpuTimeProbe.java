package tessera.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A development probe, not a benchmark to quote: median <em>thread CPU time</em> of a one-thread forward (training
 * mode, no graph) and training step of a zoo model ({@code resnet18}, 224×224) or of {@link TrainingStepBench}'s
 * network ({@code small-resnet}, 32×32) at a given batch, for A/B comparisons under machine load (see
 * {@link ConvCpuTimeProbe}); also prints the heap bytes each run allocated and the live off-heap bytes and the step/forward ratio.
 * {@code java -cp benchmarks.jar tessera.bench.TrainStepCpuTimeProbe [MODEL] [BATCH] [RUNS]}.
 */
public final class TrainStepCpuTimeProbe {
    private TrainStepCpuTimeProbe() {}

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "resnet18";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16, runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        ComputePool.setThreads(1);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean small = name.equals(TrainingRuns.SMALL_RESNET);
        try (Model model = Model.build(TrainingRuns.spec(name), DType.F32, 1).train();
             Tensor x = TrainingRuns.images(batch, TrainingRuns.imageSize(name))) {
            Sgd sgd = TrainingRuns.sgd(model);
            try (Tensor labels = TrainingRuns.labels(batch, TrainingRuns.classes(name), 37)) {
                double[] fwd = new double[runs], step = new double[runs];
                long a0 = allocated(mx);
                for (int i = small ? -runs : -2; i < runs; i++) { // the small network needs many steps to warm up
                    long t0 = mx.getCurrentThreadCpuTime();
                    TrainingRuns.forward(model, x);
                    long t1 = mx.getCurrentThreadCpuTime();
                    double loss = TrainingRuns.step(model, sgd, x, labels);
                    long t2 = mx.getCurrentThreadCpuTime();
                    if (i >= 0) {
                        fwd[i] = (t1 - t0) / 1e6;
                        step[i] = (t2 - t1) / 1e6;
                    }
                    long heapAllocated = allocated(mx) - a0;
                    a0 = allocated(mx);
                    if (runs <= 10 || i == runs - 1) System.out.printf("run %d: forward %.0f ms, step %.0f ms CPU, loss %.4f, heap allocated by forward + step %.1f KB, "
                            + "off-heap live %d MB%n", i, (t1 - t0) / 1e6, (t2 - t1) / 1e6, loss, heapAllocated / 1e3,
                            tessera.memory.MemoryStats.liveBytes() >> 20);
                }
                Arrays.sort(fwd);
                Arrays.sort(step);
                System.out.printf("%s batch %d, 1 thread: median CPU forward %.0f ms, step %.0f ms, step/forward %.2f%n",
                        name, batch, fwd[runs / 2], step[runs / 2], step[runs / 2] / fwd[runs / 2]);
            }
            sgd.close();
        }
    }

    /** Heap bytes the calling thread has allocated so far (HotSpot's per-thread counter). */
    private static long allocated(ThreadMXBean mx) {
        return ((com.sun.management.ThreadMXBean) mx).getCurrentThreadAllocatedBytes();
    }
}
