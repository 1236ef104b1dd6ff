package tessera.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Autograd cost: forward alone (no graph recorded) against forward + backward (graph recorded, loss, backward) of a
 * small ResNet-style network at batch 16 on 3×32×32 inputs — stem conv, two residual basic blocks (one with a
 * strided projection shortcut), global average pool, linear. Goal (issue 21): forwardBackward ≤ 2.5 × forward in
 * time per op, 3 × at most. On a shared host the two benchmarks run minutes apart, so load that comes and goes skews
 * their ratio; {@link #alternating} times the two in turn within every invocation (and {@link TrainStepProfileProbe}
 * does outside JMH).
 *
 * <p>Warm-up is 20 s: with 6 s, forwardBackward was still getting faster through the measurement (1 thread, per
 * fork: 41.2 → 39.2, 41.8 → 38.3, 41.4 → 38.2 ms over its five iterations; 2 threads 39 → 22 ms), so the mean
 * mixed in the end of the JIT's warm-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class TrainingStepBench {
    static final String RESNET_STYLE = """
            {"name": "small-resnet", "input": [3, 32, 32], "layers": [
              {"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
              {"type": "Residual", "activation": "relu", "body": [
                 {"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
                 {"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}]},
              {"type": "Residual", "activation": "relu", "body": [
                 {"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "stride": 2, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
                 {"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}],
               "shortcut": [{"type": "Conv2d", "out_channels": 64, "kernel_size": 1, "stride": 2, "bias": false}, {"type": "BatchNorm2d"}]},
              {"type": "GlobalAvgPool"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 10}]}""";

    @Param({"1", "2"})
    public int threads;

    private Model model;
    private Tensor x, labels;
    private int savedThreads;

    @Setup
    public void setup() {
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        model = Model.build(ModelSpec.parse(RESNET_STYLE), DType.F32, 1).train();
        x = TrainingRuns.images(16, 32);
        labels = TrainingRuns.labels(16, 10, 1);
    }

    @TearDown
    public void tearDown() {
        model.close();
        x.close();
        labels.close();
        ComputePool.setThreads(savedThreads);
    }

    @Benchmark
    public double forward() {
        return TrainingRuns.forward(model, x);
    }

    @Benchmark
    public double forwardBackward() {
        return TrainingRuns.step(model, null, x, labels);
    }

    /**
     * The nanoseconds of the forward passes and of the forward + backward passes of {@link #alternating}, summed per
     * iteration (JMH prints them as secondary results): their quotient is the ratio measured under the same load.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Split {
        public long forwardNanos, forwardBackwardNanos;

        @Setup(Level.Iteration)
        public void reset() { forwardNanos = forwardBackwardNanos = 0; }
    }

    /**
     * A forward pass, then a forward + backward pass, timed each: the two benchmarks above run minutes apart in
     * forks of their own, and load that comes and goes on a shared host moved their ratio by up to 40% between runs;
     * alternating within every invocation gives both the same conditions. Ratio = forwardBackwardNanos / forwardNanos.
     */
    @Benchmark
    public double alternating(Split split) {
        long t0 = System.nanoTime();
        double a = TrainingRuns.forward(model, x);
        long t1 = System.nanoTime();
        double b = TrainingRuns.step(model, null, x, labels);
        long t2 = System.nanoTime();
        split.forwardNanos += t1 - t0;
        split.forwardBackwardNanos += t2 - t1;
        return a + b;
    }
}
