package tessera.zoo.train;

import java.io.PrintStream;
import java.util.Arrays;
import tessera.autograd.GradMode;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.layers.transform.BatchNormFolding;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * A quick throughput figure for the demo: images per second of eval-mode forward passes on random input, median
 * over timed runs after warm-up, with batch norm folded into the convolutions and each convolution running from a
 * cached inference plan (pre-packed or Winograd-transformed weights). (Kernel and model benchmarks proper are JMH suites in the bench module.)
 */
public final class InferenceThroughput {
    private InferenceThroughput() {}

    public static void report(ModelSpec spec, int[] batches, PrintStream out) {
        try (Model built = Model.build(spec, DType.F32, 7); Model m = BatchNormFolding.fold(built.eval())) {
            for (int n : batches) {
                int[] shape = new int[spec.input().length + 1];
                shape[0] = n;
                System.arraycopy(spec.input(), 0, shape, 1, spec.input().length);
                try (Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, shape), 3, 0, 1)) {
                    double[] times = time(m, x);
                    Arrays.sort(times);
                    double median = times[times.length / 2];
                    out.printf("  %-10s batch %3d: %9.1f images/s  (%.2f ms per batch)%n", spec.name(), n, n / median, median * 1e3);
                }
            }
        }
    }

    private static double[] time(Model m, Tensor x) {
        long budget = 3_000_000_000L;
        long start = System.nanoTime();
        run(m, x);
        run(m, x);
        long first = System.nanoTime() - start;
        int reps = (int) Math.max(3, Math.min(50, budget / Math.max(1, first / 2)));
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            run(m, x);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        return t;
    }

    private static void run(Model m, Tensor x) {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            m.forward(Variable.constant(x), new ForwardContext(0));
        }
    }
}
