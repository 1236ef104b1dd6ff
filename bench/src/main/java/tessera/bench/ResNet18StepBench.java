package tessera.bench;

import java.util.List;
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
import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.ComputePool;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.RandomFill;
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
        sgd = Sgd.of(List.copyOf(model.parameters().values()), 0.01, 0.9, 0, 0, false);
        x = RandomFill.normal(Tensor.zeros(DType.F32, BATCH, 3, 224, 224), 2, 0, 1);
        long[] l = new long[BATCH];
        for (int i = 0; i < BATCH; i++) l[i] = (i * 37L) % 1000;
        labels = Tensor.ofLongs(l, BATCH);
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
        try (tessera.autograd.Scope s = tessera.autograd.Scope.open(); GradMode off = GradMode.off()) {
            return model.forward(Variable.constant(x), new ForwardContext(1)).value().getDouble(0, 0);
        }
    }

    @Benchmark
    public double trainStep() {
        return step(model, sgd, x, labels);
    }

    /** One SGD step: zero the gradients, forward, cross-entropy, backward, update; returns the loss. */
    static double step(Model model, Sgd sgd, Tensor x, Tensor labels) {
        try (tessera.autograd.Scope s = tessera.autograd.Scope.open()) {
            sgd.zeroGrad();
            Variable loss = Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(1)), labels, true, 0);
            loss.backward();
            sgd.step();
            return loss.value().getDouble(0);
        }
    }
}
