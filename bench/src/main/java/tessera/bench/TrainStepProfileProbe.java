package tessera.bench;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import tessera.autograd.BackwardObserver;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A development probe, not a benchmark to quote: where a training step's backward time goes, by op and gradient
 * shape and by position in the backward order ({@link BackwardOpTimes}), for {@link TrainingStepBench}'s network ({@code small-resnet}, 32×32) or a zoo model
 * ({@code resnet18}, 224×224), after warm-up; also the median wall time of a forward without a graph, of one recording the graph (and the
 * loss) without a backward, of a forward + backward, and of a captured forward + backward replayed
 * ({@link tessera.autograd.CapturedStep}), measured alternately with no observer installed.
 * {@code java -cp benchmarks.jar tessera.bench.TrainStepProfileProbe [MODEL] [BATCH] [THREADS] [STEPS]}.
 */
public final class TrainStepProfileProbe {
    private TrainStepProfileProbe() {}

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "small-resnet";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16, threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        boolean small = name.equals(TrainingRuns.SMALL_RESNET);
        ComputePool.setThreads(threads);
        try (Model model = Model.build(TrainingRuns.spec(name), DType.F32, 1).train();
             Tensor x = TrainingRuns.images(batch, TrainingRuns.imageSize(name));
             Tensor labels = TrainingRuns.labels(batch, TrainingRuns.classes(name), 1)) {
            tessera.autograd.CapturedStep captured = TrainingRuns.capture(model, x, labels);
            for (int i = 0; i < (small ? 300 : 3); i++) {
                TrainingRuns.forward(model, x);
                TrainingRuns.step(model, null, x, labels);
                TrainingRuns.replay(captured, model, null);
            }
            double[] forward = new double[steps], recorded = new double[steps], step = new double[steps], replay = new double[steps];
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                TrainingRuns.forward(model, x);
                long t1 = System.nanoTime();
                TrainingRuns.recordedForward(model, x, labels);
                long t2 = System.nanoTime();
                TrainingRuns.step(model, null, x, labels);
                long t3 = System.nanoTime();
                TrainingRuns.replay(captured, model, null);
                forward[i] = (t1 - t0) / 1e6;
                recorded[i] = (t2 - t1) / 1e6;
                step[i] = (t3 - t2) / 1e6;
                replay[i] = (System.nanoTime() - t3) / 1e6;
            }
            captured.close();
            Arrays.sort(forward);
            Arrays.sort(recorded);
            Arrays.sort(step);
            Arrays.sort(replay);
            System.out.printf("%s batch %d, %d thread(s): median forward %.2f ms, forward recording the graph + loss %.2f ms,"
                    + " forward + backward %.2f ms, ratio %.2f; captured step replayed %.2f ms, ratio %.2f%n", name, batch, threads,
                    forward[steps / 2], recorded[steps / 2], step[steps / 2], step[steps / 2] / forward[steps / 2],
                    replay[steps / 2], replay[steps / 2] / forward[steps / 2]);
            BackwardOpTimes times = new BackwardOpTimes();
            try (BackwardObserver.Installation i = BackwardObserver.install(times)) {
                for (int s = 0; s < steps; s++) {
                    times.startStep();
                    TrainingRuns.step(model, null, x, labels);
                }
            }
            List<BackwardOpTimes.Entry> entries = times.entries();
            entries.sort(Comparator.comparingLong(BackwardOpTimes.Entry::nanos).reversed());
            double total = times.totalNanos();
            System.out.printf("backward by op over %d steps (%.2f ms per step):%n", steps, total / 1e6 / steps);
            System.out.printf("  %-18s %-20s %8s %10s %7s%n", "op", "gradient shape", "calls", "ms/step", "share");
            for (BackwardOpTimes.Entry e : entries)
                System.out.printf("  %-18s %-20s %8.1f %10.3f %6.1f%%%n", e.op(), e.gradientShape(), (double) e.calls() / steps,
                        e.nanos() / 1e6 / steps, 100 * e.nanos() / total);
            System.out.printf("backward in order (ms per step):%n");
            List<BackwardOpTimes.Position> order = times.byPosition();
            for (int k = 0; k < order.size(); k++)
                System.out.printf("  %2d %-36s %8.3f%n", k, order.get(k).opAndShape(), order.get(k).nanos() / 1e6 / steps);
        }
    }
}
