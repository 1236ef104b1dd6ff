package tessera.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.zoo.models.Zoo;

/**
 * ResNet-18 (torchvision layout, 1000 classes) at batch 16 on 3×224×224, in training mode: {@code forward} alone (no
 * graph; batch-norm on batch statistics), {@code trainStep} = forward + cross-entropy + backward + SGD (momentum 0.9)
 * — the same work as {@code tools/torch_resnet18_step.py} times for PyTorch. Milliseconds per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class ResNet18StepBench {
    static final int BATCH = 16;

    @Param({"1", "2"})
    public int threads;

    private Model model;
    private Sgd sgd;
    private Tensor x, labels;
    private int savedThreads;

    @Setup
    public void setup() {
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        model = Model.build(Zoo.spec("resnet18", 1000, null), DType.F32, 1).train();
        sgd = TrainingRuns.sgd(model);
        x = TrainingRuns.images(BATCH, 224);
        labels = TrainingRuns.labels(BATCH, 1000, 37);
    }

    @TearDown
    public void tearDown() {
        sgd.close();
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
    public double trainStep() {
        return TrainingRuns.step(model, sgd, x, labels);
    }
}
