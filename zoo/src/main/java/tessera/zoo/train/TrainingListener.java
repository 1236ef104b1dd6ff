package tessera.zoo.train;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What a {@link Trainer} reports while it runs: the start of an epoch, each finished batch, each finished epoch and
 * each checkpoint written. Implementations decide how to show it (plain log lines: {@link PlainProgress}; a terminal
 * bar and a curve PNG: the CLI). Every method runs on the training thread; the defaults do nothing.
 */
public interface TrainingListener extends AutoCloseable {

    /** Epoch {@code epoch} (1-based) of {@code epochs} starts; it has {@code batches} mini-batches. */
    default void epochStarted(int epoch, int epochs, int batches) {}

    /**
     * Batch {@code batch} (0-based) finished: running mean loss and accuracy (0–1) of this epoch so far, and the
     * images seen this epoch.
     */
    default void batchDone(int batch, double loss, double accuracy, long images) {}

    /** An epoch finished and was evaluated on the test set. */
    default void epochDone(History.Epoch epoch, int epochs) {}

    /** The checkpoint and history of {@code history} were written to {@code dir}. */
    default void checkpointWritten(History history, Path dir) throws IOException {}

    @Override
    default void close() {}
}
