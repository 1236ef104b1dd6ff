package tessera.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tessera.kernels.ComputePool;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * {@code tessera bench --model M.onnx [--batch B] [--threads T] [--iterations N] [--profile [--top K]]}: warms up,
 * then prints latency percentiles, throughput and the memory plan; with {@code --profile}, the per-step time
 * breakdown ({@link tessera.onnx.infer.NodeProfile}). Without {@code --model} it lists its subcommands (e.g. {@code kernels}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchKernelsCommand.class},
        description = "Benchmark an ONNX model (--model), or run a benchmark subcommand.")
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Option(names = "--model", description = "ONNX model file to benchmark") Path model;
    @Option(names = "--batch", defaultValue = "1", description = "batch size (default 1)") int batch;
    @Option(names = "--threads", defaultValue = "0", description = "intra-op threads (default: all cores)") int threads;
    @Option(names = "--iterations", defaultValue = "100", description = "timed runs after warm-up (default 100)") int iterations;
    @Option(names = "--profile", description = "after the latency runs, time every step: node, op, algorithm, ms, %% of total") boolean profile;
    @Option(names = "--top", defaultValue = "25", description = "steps listed by --profile (default 25)") int top;

    @Override
    public Integer call() {
        if (model == null) {
            if (spec.subcommands().isEmpty()) {
                System.err.println("tessera bench: error: give --model M.onnx");
                return 2;
            }
            System.err.println("tessera bench: error: give --model M.onnx or one of the subcommands " + spec.subcommands().keySet());
            spec.commandLine().usage(System.err);
            return 2;
        }
        return CliErrors.run("bench", this::bench);
    }

    private void bench() {
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        if (iterations < 1) throw new IllegalArgumentException("--iterations " + iterations + " must be >= 1");
        if (threads < 0) throw new IllegalArgumentException("--threads " + threads + " must be >= 1");
        try (InferenceSession s = InferenceSession.load(model, SessionOptions.DEFAULT.withThreads(threads))) {
            int[] shape = s.declaredInputShape(0);
            for (int d = 0; d < shape.length; d++) if (shape[d] < 0) shape[d] = d == 0 ? batch : 1;
            if (shape.length > 0 && s.declaredInputShape(0)[0] >= 0 && batch != 1 && shape[0] != batch) {
                throw new IllegalArgumentException("model input '" + s.inputNames().get(0) + "' has a fixed batch of " + shape[0] + "; --batch " + batch + " is not possible");
            }
            try (Tensor x = Tensor.zeros(shape); Tensor y = Tensor.zeros(s.outputShape(0, shape))) {
                RandomFill.uniform(x, 42, -1, 1);
                long warmEnd = System.nanoTime() + 2_000_000_000L;
                int warm = 0;
                while (warm < Math.max(10, iterations / 2) || (System.nanoTime() < warmEnd && warm < 10 * iterations)) {
                    s.run(x, y);
                    warm++;
                }
                long[] ns = new long[iterations];
                long t0 = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    long a = System.nanoTime();
                    s.run(x, y);
                    ns[i] = System.nanoTime() - a;
                }
                long total = System.nanoTime() - t0;
                Arrays.sort(ns);
                System.out.printf("model %s, input %s, %d threads, %d warm-up + %d timed runs%n", model, Arrays.toString(shape),
                        ComputePool.threads(), warm, iterations);
                System.out.printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  (min %.3f, max %.3f)%n", ms(pct(ns, 50)), ms(pct(ns, 90)),
                        ms(pct(ns, 99)), ms(ns[0]), ms(ns[ns.length - 1]));
                System.out.printf("throughput: %.1f images/s%n", (double) shape[0] * iterations / (total / 1e9));
                System.out.println(s.memoryReport(shape));
                if (profile) System.out.print(s.profile(new Tensor[] {x}, new Tensor[] {y}, iterations).table(top));
            }
        }
    }

    private static long pct(long[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static double ms(long ns) { return ns / 1e6; }
}
