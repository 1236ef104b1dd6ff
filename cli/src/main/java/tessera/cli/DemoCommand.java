package tessera.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.zoo.data.ImageDataset;
import tessera.zoo.data.Mnist;
import tessera.zoo.models.Zoo;
import tessera.zoo.train.Evaluation;
import tessera.zoo.train.Evaluator;
import tessera.zoo.train.History;
import tessera.zoo.train.InferenceThroughput;
import tessera.zoo.train.TestTimeAugmentation;
import tessera.zoo.train.TrainConfig;
import tessera.zoo.train.Trainer;

/**
 * The main job: trains LeNet-5 on the bundled MNIST subset with the documented recipe, prints the test accuracy
 * and a per-class summary, saves the model and curves, writes the first-layer filters and saliency and occlusion maps
 * of a few test digits, then measures inference throughput.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train LeNet-5 on the bundled MNIST subset, report accuracy, save model and curves, measure inference speed.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "15", description = "training epochs (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--out", defaultValue = "runs/demo", description = "output directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = "--skip-bench", description = "skip the inference throughput measurement")
    boolean skipBench;

    @Override
    public Integer call() throws Exception {
        if (threads != null) ComputePool.setThreads(threads);
        Path data = Mnist.bundledDir();
        TrainConfig recipe = DemoRecipe.config(epochs).withOut(out);
        try (ImageDataset train = Mnist.train(data); ImageDataset test = Mnist.test(data)) {
            ModelSpec spec = DemoRecipe.model(train.classes(), train.sampleShape());
            try (Model model = Model.build(spec, DType.F32, recipe.seed())) {
                System.out.printf("Tessera demo: %s (%,d parameters) on the bundled MNIST subset — %d training and %d test digits, %d threads%n",
                        spec.name(), model.parameterCount(), train.size(), test.size(), ComputePool.threads());
                System.out.println("recipe: " + DemoRecipe.describe(recipe));
                History history = new Trainer(model, recipe, System.out, new ProgressBarListener(System.out, model.spec().name())).fit(train, test);
                Evaluation ev = Evaluator.evaluate(List.of(model), test, 500, TestTimeAugmentation.shifts(1));
                System.out.println();
                System.out.printf("test accuracy: %.2f%%%n", 100 * ev.top1());
                System.out.printf("(single view %.2f%%, with test-time augmentation over ±1-pixel shifts %.2f%%; top-5 %.2f%%)%n",
                        100 * history.last().testAccuracy(), 100 * ev.top1(), 100 * ev.top5());
                System.out.print(ev.format());
                System.out.printf("training: %.1f s per epoch on average, %.0f images/s%n",
                        history.epochs().stream().mapToDouble(History.Epoch::seconds).average().orElse(0),
                        history.epochs().stream().mapToDouble(History.Epoch::imagesPerSecond).average().orElse(0));
                System.out.println("saved model, history and curves (" + out.resolve("curves.png") + ") to " + out);
            }
            DemoExplanations.write(out, test, System.out);
            if (!skipBench) {
                System.out.println();
                System.out.println("inference throughput (eval mode, no graph recorded; median of timed runs after warm-up):");
                InferenceThroughput.report(Zoo.lenet5(10, new int[]{1, 28, 28}), new int[]{1, 64}, System.out);
                InferenceThroughput.report(Zoo.resnet(18, Zoo.ResNetVariant.V1_5, 1000, new int[]{3, 224, 224}), new int[]{1, 16}, System.out);
            }
        }
        return 0;
    }
}
