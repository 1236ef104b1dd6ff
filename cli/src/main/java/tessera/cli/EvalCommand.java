package tessera.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.layers.Model;
import tessera.zoo.data.ImageDataset;
import tessera.zoo.data.Mnist;
import tessera.zoo.train.Checkpoint;
import tessera.zoo.train.Evaluation;
import tessera.zoo.train.Evaluator;

/** Evaluates a saved model on the test split of an IDX data directory. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a saved model (from train --out) on test data.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "directory written by train --out") Path model;
    @Option(names = "--data", required = true, description = "directory with t10k- images and labels") Path data;

    @Override
    public Integer call() throws Exception {
        try (Model m = Checkpoint.loadModel(model); ImageDataset test = Mnist.test(data)) {
            Evaluation ev = Evaluator.evaluate(m, test, 256);
            System.out.printf("test accuracy: %.2f%% (top-5 %.2f%%, loss %.4f) on %d images%n", 100 * ev.top1(), 100 * ev.top5(), ev.loss(), test.size());
            System.out.print(ev.format());
        }
        return 0;
    }
}
