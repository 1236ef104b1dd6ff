package tessera.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.data.ImageDataset;
import tessera.zoo.data.Mnist;
import tessera.zoo.train.Evaluation;
import tessera.zoo.train.Evaluator;
import tessera.zoo.train.History;
import tessera.zoo.train.TrainConfig;
import tessera.zoo.train.Trainer;

/** Trains a zoo model or a JSON spec on an MNIST-format (IDX) data directory. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a model on IDX-format data (MNIST layout).")
public final class TrainCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "zoo model name (e.g. lenet5) or JSON spec file")
    String model;

    @Option(names = "--data", required = true, description = "directory with train-/t10k- images and labels (IDX, gzip or raw)")
    Path data;

    @Option(names = "--epochs", defaultValue = "10") int epochs;
    @Option(names = "--batch", defaultValue = "64") int batch;
    @Option(names = "--optimizer", defaultValue = "momentum", description = "sgd | momentum | nesterov | rmsprop | adam | adamw (default ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--lr", defaultValue = "0.01") double lr;
    @Option(names = "--weight-decay", defaultValue = "0") double weightDecay;
    @Option(names = "--schedule", defaultValue = "none", description = "none | step | exp | cosine (default ${DEFAULT-VALUE})")
    String schedule;
    @Option(names = "--label-smoothing", defaultValue = "0") double labelSmoothing;
    @Option(names = "--augment", defaultValue = "0", description = "random-crop padding in pixels (0 = no augmentation)") int augment;
    @Option(names = "--flip", description = "random horizontal flips (not for digits)") boolean flip;
    @Option(names = "--patience", defaultValue = "0", description = "early stopping patience in epochs (0 = off)") int patience;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--threads", description = "compute threads (default: all cores)") Integer threads;
    @Option(names = "--out", description = "output directory (checkpoint, spec, curves)") Path out;
    @Option(names = "--resume", description = "continue from the checkpoint in --out") boolean resume;

    @Override
    public Integer call() throws Exception {
        if (threads != null) ComputePool.setThreads(threads);
        try (ImageDataset train = Mnist.train(data); ImageDataset test = Mnist.test(data)) {
            ModelSpec spec = SummaryCommand.resolve(model, train.classes(), train.sampleShape());
            TrainConfig cfg = new TrainConfig(epochs, batch, optimizer, lr, weightDecay, schedule, labelSmoothing,
                    new BatchLoader.Augmentation(augment, flip, (float) (-Mnist.MEAN / Mnist.STD)), patience, seed, out, resume);
            try (Model m = Model.build(spec, DType.F32, seed)) {
                System.out.printf("training %s (%,d parameters) on %d images, testing on %d; %s lr %g, batch %d, %d epochs, %d threads%n",
                        spec.name(), m.parameterCount(), train.size(), test.size(), optimizer, lr, batch, epochs, ComputePool.threads());
                History h = new Trainer(m, cfg, System.out, new ProgressBarListener(System.out, m.spec().name())).fit(train, test);
                Evaluation ev = Evaluator.evaluate(m, test, 256);
                System.out.printf("test accuracy: %.2f%% (top-5 %.2f%%), best epoch %d%n", 100 * ev.top1(), 100 * ev.top5(), h.best().epoch());
                if (out != null) System.out.println("saved model, history and curves to " + out);
            }
        }
        return 0;
    }
}
