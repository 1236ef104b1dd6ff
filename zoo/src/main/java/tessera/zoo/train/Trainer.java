package tessera.zoo.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.List;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.memory.Tensor;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.data.ImageDataset;

/**
 * Mini-batch training of a classifier with cross-entropy: shuffled seeded batches, optional augmentation, the
 * configured optimizer and learning-rate schedule, evaluation on the test set after every epoch, early stopping,
 * and (with an output directory) a checkpoint and the history CSV written after every epoch. Progress goes to a
 * {@link TrainingListener}.
 *
 * <p>Each step runs inside a {@link Scope}: activations, graph and temporaries are freed when the step ends, so
 * off-heap memory stays flat across steps.
 */
public final class Trainer {
    private final Model model;
    private final TrainConfig config;
    private final PrintStream out;
    private final TrainingListener listener;

    /** Reports progress as plain lines on {@code out}. */
    public Trainer(Model model, TrainConfig config, PrintStream out) {
        this(model, config, out, new PlainProgress(out));
    }

    /** Reports progress to {@code listener} (closed when {@link #fit} returns); messages go to {@code out}. */
    public Trainer(Model model, TrainConfig config, PrintStream out, TrainingListener listener) {
        this.model = model;
        this.config = config;
        this.out = out;
        this.listener = listener;
    }

    /** Trains and returns the history; evaluation uses {@code test}. */
    public History fit(ImageDataset train, ImageDataset test) throws IOException {
        History history = new History();
        int firstEpoch = 1;
        if (config.resume() && config.out() != null && Checkpoint.exists(config.out())) {
            history = Checkpoint.load(config.out(), model);
            firstEpoch = history.epochs().size() + 1;
            out.println("resumed from " + config.out() + " after epoch " + (firstEpoch - 1));
        }
        try (TrainingStep step = new TrainingStep(model, config);
             BatchLoader loader = new BatchLoader(train, config.batch(), config.augmentation());
             TrainingListener progress = listener) {
            step.fastForward(firstEpoch - 1);
            double best = history.best() == null ? -1 : history.best().testAccuracy();
            int sinceBest = 0;
            for (int epoch = firstEpoch; epoch <= config.epochs(); epoch++) {
                model.train();
                loader.startEpoch(config.seed() * 1_000_003L + epoch, true);
                progress.epochStarted(epoch, config.epochs(), loader.batches());
                double lr = step.learningRate();
                long t0 = System.nanoTime();
                double lossSum = 0;
                long correct = 0, seen = 0;
                for (int b = 0; b < loader.batches(); b++) {
                    Tensor[] xy = loader.batch(b);
                    double[] lossAndCorrect = step.run(xy[0], xy[1], config.seed() * 7919L + (long) epoch * 100_003L + b);
                    int n = xy[0].dim(0);
                    lossSum += lossAndCorrect[0] * n;
                    correct += (long) lossAndCorrect[1];
                    seen += n;
                    progress.batchDone(b, lossSum / seen, (double) correct / seen, seen);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                step.endEpoch();
                Evaluation ev = Evaluator.evaluate(model, test, Math.max(config.batch(), 256));
                History.Epoch e = new History.Epoch(epoch, lossSum / seen, (double) correct / seen, ev.loss(), ev.top1(), ev.top5(),
                        lr, seen / seconds, seconds);
                history.add(e);
                progress.epochDone(e, config.epochs());
                if (config.out() != null) save(history);
                if (e.testAccuracy() > best) {
                    best = e.testAccuracy();
                    sinceBest = 0;
                } else if (config.patience() > 0 && ++sinceBest >= config.patience()) {
                    out.println("early stopping: no better test accuracy for " + config.patience() + " epochs");
                    break;
                }
            }
        }
        return history;
    }

    private void save(History history) throws IOException {
        Files.createDirectories(config.out());
        Checkpoint.save(config.out(), model, history);
        listener.checkpointWritten(history, config.out());
    }

    /** One optimizer step on a batch: forward, loss, backward, update. Returns {loss, correct predictions}. */
    static final class TrainingStep implements AutoCloseable {
        private final Model model;
        private final TrainConfig config;
        private final Optimizers.Handle optimizer;

        TrainingStep(Model model, TrainConfig config) {
            this.model = model;
            this.config = config;
            this.optimizer = Optimizers.create(config, List.copyOf(model.parameters().values()));
        }

        double learningRate() { return optimizer.learningRate(); }

        void fastForward(int epochsDone) { for (int i = 0; i < epochsDone; i++) optimizer.endEpoch(); }

        void endEpoch() { optimizer.endEpoch(); }

        double[] run(Tensor x, Tensor labels, long seed) {
            try (Scope s = Scope.open()) {
                optimizer.zeroGrad();
                Variable logits = model.forward(Variable.constant(x), new ForwardContext(seed));
                Variable loss = Ops.crossEntropy(logits, labels, true, config.labelSmoothing());
                loss.backward();
                optimizer.step();
                return new double[]{loss.value().getDouble(0), correct(logits.value(), labels)};
            }
        }

        private static long correct(Tensor logits, Tensor labels) {
            int n = logits.dim(0), k = logits.dim(1);
            double[] v = logits.toDoubleArray();
            long c = 0;
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
                if (best == (int) labels.getDouble(i)) c++;
            }
            return c;
        }

        @Override
        public void close() { optimizer.close(); }
    }
}
