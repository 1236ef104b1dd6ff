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
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.ComputePool;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.data.ImageDataset;
import tessera.zoo.data.Mnist;
import tessera.zoo.models.Zoo;

/**
 * One training epoch of plain LeNet-5 (ReLU, max-pool) on the bundled 8,000-digit MNIST subset: batch 64, SGD
 * lr 0.01 momentum 0.9, shuffled — the same work as {@code tools/torch_lenet_epoch.py} measures for PyTorch.
 * Seconds per epoch; run from the project root (it reads {@code data/mnist}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class LenetEpochBench {
    @Param({"1", "2"})
    public int threads;

    private ImageDataset train;
    private Model model;
    private BatchLoader loader;
    private Sgd sgd;
    private int epoch;

    @Setup
    public void setup() throws Exception {
        ComputePool.setThreads(threads);
        train = Mnist.train(java.nio.file.Path.of(System.getProperty("tessera.root", "."), "data/mnist"));
        model = Model.build(Zoo.lenet5(10, new int[]{1, 28, 28}), DType.F32, 1).train();
        loader = new BatchLoader(train, 64, BatchLoader.Augmentation.NONE);
        sgd = TrainingRuns.sgd(model);
    }

    @TearDown
    public void tearDown() {
        sgd.close();
        loader.close();
        model.close();
        train.close();
    }

    @Benchmark
    public double epoch() {
        loader.startEpoch(++epoch, true);
        double last = 0;
        for (int b = 0; b < loader.batches(); b++) {
            Tensor[] xy = loader.batch(b);
            try (tessera.autograd.Scope s = tessera.autograd.Scope.open()) {
                sgd.zeroGrad();
                Variable loss = Ops.crossEntropy(model.forward(Variable.constant(xy[0]), new ForwardContext(b)), xy[1], true, 0);
                loss.backward();
                sgd.step();
                last = loss.value().getDouble(0);
            }
        }
        return last;
    }
}
