package tessera.zoo.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.List;
import tessera.autograd.CapturedStep;
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

    /**
     * One optimizer step on a batch: forward, loss, backward, update. Returns {loss, correct predictions}. The first
     * batch's forward + backward is captured ({@link CapturedStep}) and every later batch of the same shape replays it
     * — the same bits as an eager step (dropout masks included: both seed them from the step's seed), with no graph
     * built and nothing allocated per step. A batch of another shape (a short last batch) runs eagerly; so does every
     * step of a model with an op that cannot be replayed (a plugin's {@code Ops.custom} op without a forward
     * computation), after the refused capture's batch-norm statistics updates are undone.
     */
    static final class TrainingStep implements AutoCloseable {
        private final Model model;
        private final TrainConfig config;
        private final Optimizers.Handle optimizer;
        /** The captured step, the batch tensors it reads and its logits; null until captured (or when refused). */
        private CapturedStep captured;
        private Tensor capturedX, capturedLabels;
        private Variable capturedLogits;
        private boolean captureRefused;
        private final double[] result = new double[2];

        TrainingStep(Model model, TrainConfig config) { this(model, config, true); }

        /** capture false: every step eager (the reference the captured steps are tested against). */
        TrainingStep(Model model, TrainConfig config, boolean capture) {
            this.model = model;
            this.config = config;
            this.captureRefused = !capture;
            this.optimizer = Optimizers.create(config, List.copyOf(model.parameters().values()));
        }

        double learningRate() { return optimizer.learningRate(); }

        void fastForward(int epochsDone) { for (int i = 0; i < epochsDone; i++) optimizer.endEpoch(); }

        void endEpoch() { optimizer.endEpoch(); }

        /** Whether steps replay a captured step (false before the first batch, and for models that cannot be). */
        boolean replays() { return captured != null; }

        /** The step's {loss, correct predictions}, in an array reused by the next call. */
        double[] run(Tensor x, Tensor labels, long seed) {
            if (captured == null && !captureRefused && x.isContiguous() && labels.isContiguous()) capture(x, labels, seed);
            if (captured != null && x.sameShapeAs(capturedX) && labels.sameShapeAs(capturedLabels)) {
                capturedX.copyFrom(x);
                capturedLabels.copyFrom(labels);
                optimizer.zeroGrad();
                result[0] = captured.run(seed); // dropout seeded as the eager step's ForwardContext(seed) seeds it
                optimizer.step();
                result[1] = correct(capturedLogits.value(), capturedLabels);
                return result;
            }
            try (Scope s = Scope.open()) {
                optimizer.zeroGrad();
                Variable logits = model.forward(Variable.constant(x), new ForwardContext(seed));
                Variable loss = Ops.crossEntropy(logits, labels, true, config.labelSmoothing());
                loss.backward();
                optimizer.step();
                result[0] = loss.value().item();
                result[1] = correct(logits.value(), labels);
                return result;
            }
        }

        /**
         * Captures the step on copies of this batch's tensors; if the model cannot be replayed, puts its buffers back
         * (the refused forward pass updated the running statistics of the layers before the op it stopped at).
         */
        private void capture(Tensor x, Tensor labels, long seed) {
            java.util.Map<String, Tensor> buffers = model.buffers();
            java.util.Map<String, Tensor> saved = new java.util.HashMap<>();
            for (var e : buffers.entrySet()) saved.put(e.getKey(), e.getValue().copy());
            Tensor cx = x.copy(), cl = labels.copy();
            try {
                optimizer.zeroGrad();
                // the step runs here once, on this batch: run() then replays it (same tensors, new values)
                CapturedStep step = CapturedStep.capture(() -> {
                    capturedLogits = model.forward(Variable.constant(cx), new ForwardContext(seed));
                    return Ops.crossEntropy(capturedLogits, cl, true, config.labelSmoothing());
                });
                captured = step;
                capturedX = cx;
                capturedLabels = cl;
                // capture ran forward + backward; the replay below would run them again: undo its side effects
                for (var e : buffers.entrySet()) e.getValue().copyFrom(saved.get(e.getKey()));
            } catch (IllegalArgumentException refused) {
                captureRefused = true;
                capturedLogits = null;
                for (var e : buffers.entrySet()) e.getValue().copyFrom(saved.get(e.getKey()));
                cx.close();
                cl.close();
            } finally {
                for (Tensor t : saved.values()) t.close();
            }
        }

        /** Rows of logits [N, K] whose largest value (first on ties) is at the label; reads in place, allocates nothing. */
        private static long correct(Tensor logits, Tensor labels) {
            int n = logits.dim(0), k = logits.dim(1);
            long c = 0;
            for (int i = 0; i < n; i++) {
                long row = logits.offset() + (long) i * logits.stride(0);
                int best = 0;
                double bestValue = logits.readAt(row);
                for (int j = 1; j < k; j++) {
                    double v = logits.readAt(row + (long) j * logits.stride(1));
                    if (v > bestValue) { best = j; bestValue = v; }
                }
                if (best == (int) labels.readAt(labels.offset() + (long) i * labels.stride(0))) c++;
            }
            return c;
        }

        @Override
        public void close() {
            optimizer.close();
            if (captured != null) {
                captured.close();
                capturedX.close();
                capturedLabels.close();
            }
        }
    }
}
