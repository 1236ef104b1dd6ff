package tessera.fuzz;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.MemoryStats;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.zoo.models.Zoo;

/**
 * Soak runs for the closing note of issue 18 (not CI; {@code tools/soak.sh}):
 * <pre>
 *   Soak shared MODEL.onnx THREADS RUNS     every thread's every output bit-identical to the single-threaded one;
 *                                           RSS, heap after GC and off-heap live bytes at the start and at
 *                                           -Dsoak.checkpoints=10 evenly spaced points
 *   Soak lenet INFERENCES STEPS             heap after GC and off-heap live bytes at ten checkpoints of each phase
 * </pre>
 */
public final class Soak {
    private Soak() {}

    public static void main(String[] args) throws Exception {
        switch (args.length > 0 ? args[0] : "") {
            case "shared" -> shared(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "lenet" -> lenet(Long.parseLong(args[1]), Long.parseLong(args[2]));
            default -> {
                System.err.println("usage: Soak shared MODEL.onnx THREADS RUNS | Soak lenet INFERENCES STEPS");
                System.exit(2);
            }
        }
    }

    static void shared(Path model, int threads, int runs) throws Exception {
        try (InferenceSession s = InferenceSession.load(model);
             Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, fixed(s.declaredInputShape(0))), 7, 0, 1)) {
            int warm = Integer.getInteger("soak.warmup", 200);
            for (int r = 0; r < warm; r++) s.run(x).close(); // steady state (compiled code) before the reference
            float[] expected;
            try (Tensor y = s.run(x)) {
                expected = y.toFloatArray();
            }
            AtomicLong done = new AtomicLong(), mismatched = new AtomicLong();
            long total = (long) threads * runs;
            long every = Math.max(1, total / Integer.getInteger("soak.checkpoints", 10));
            System.out.println("runs, not bit-identical, RSS (MiB), heap used after GC (MiB), off-heap live (MiB), time");
            memory(0, 0);
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    try (Tensor y = Tensor.zeros(DType.F32, s.outputShape(0, x.shape()))) {
                        for (int r = 0; r < runs; r++) {
                            s.run(x, y);
                            float[] got = y.toFloatArray();
                            if (!Arrays.equals(expected, got)) {
                                double maxDiff = 0;
                                for (int i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
                                System.out.printf("  mismatch: run %d of a thread (%d overall), max |difference| %.3g%n", r, done.get(), maxDiff);
                                mismatched.incrementAndGet();
                            }
                            long d = done.incrementAndGet();
                            if (d % every == 0) memory(d, mismatched.get());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
            pool.shutdown();
            System.out.printf("soak shared %s: %d threads x %d runs = %d runs, %d not bit-identical to the single-threaded output, %.0f s%n",
                    model.getFileName(), threads, runs, done.get(), mismatched.get(), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** One line of the shared soak's memory table (the GC runs while the other threads keep going). */
    private static synchronized void memory(long runs, long mismatched) {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        System.out.printf("%d, %d, %.1f, %.1f, %.2f, %tT%n", runs, mismatched, rssBytes() / 1048576.0, heap / 1048576.0, MemoryStats.liveBytes() / 1048576.0,
                System.currentTimeMillis());
    }

    /** Resident set size from /proc/self/status (Linux), or -1 elsewhere. */
    private static long rssBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    private static int[] fixed(int[] shape) {
        int[] s = shape.clone();
        for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = 1;
        return s;
    }

    static void lenet(long inferences, long steps) {
        try (Model m = Model.build(Zoo.spec("lenet5", 10, new int[] {1, 28, 28}), DType.F32, 1);
             Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, 16, 1, 28, 28), 5, 0, 1);
             Tensor labels = Tensor.ofLongs(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}, 16);
             Sgd sgd = Sgd.of(List.copyOf(m.parameters().values()), 0.01)) {
            System.out.println("phase, iteration, heap used after GC (MiB), off-heap live (MiB)");
            m.eval();
            for (long i = 1; i <= inferences; i++) {
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    m.forward(Variable.constant(x.narrow(0, 0, 1)), new ForwardContext(0)).value().numel();
                }
                if (i % Math.max(1, inferences / 10) == 0) report("inference", i);
            }
            m.train();
            for (long i = 1; i <= steps; i++) {
                try (Scope s = Scope.open()) {
                    sgd.zeroGrad();
                    Variable loss = Ops.crossEntropy(m.forward(Variable.constant(x), new ForwardContext(i)), labels, true, 0);
                    loss.backward();
                    sgd.step();
                }
                if (i % Math.max(1, steps / 10) == 0) report("training", i);
            }
        }
    }

    private static void report(String phase, long i) {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        System.out.printf("%s, %d, %.1f, %.2f%n", phase, i, heap / 1048576.0, MemoryStats.liveBytes() / 1048576.0);
    }
}
