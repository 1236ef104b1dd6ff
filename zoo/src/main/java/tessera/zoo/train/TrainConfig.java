package tessera.zoo.train;

import java.nio.file.Path;
import tessera.zoo.data.BatchLoader;

/**
 * A training recipe.
 *
 * @param optimizer     sgd | momentum (SGD, momentum 0.9) | nesterov | rmsprop | adam | adamw
 * @param schedule      none | step (×0.1 every third of the epochs) | exp (×gamma per epoch) | cosine (to 0 over the run)
 * @param labelSmoothing ε of the cross-entropy (0 = off)
 * @param patience      early stopping: stop after this many epochs without a better test accuracy (0 = off)
 * @param out           directory for the checkpoint, spec and curves (null = don't save)
 */
public record TrainConfig(int epochs, int batch, String optimizer, double lr, double weightDecay, String schedule,
                          double labelSmoothing, BatchLoader.Augmentation augmentation, int patience, long seed,
                          Path out, boolean resume) {

    public TrainConfig {
        if (epochs < 1) throw new IllegalArgumentException("--epochs " + epochs + " must be >= 1");
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        if (!(lr > 0)) throw new IllegalArgumentException("--lr " + lr + " must be > 0");
        if (weightDecay < 0) throw new IllegalArgumentException("weight decay " + weightDecay + " must be >= 0");
        if (labelSmoothing < 0 || labelSmoothing >= 1) throw new IllegalArgumentException("label smoothing " + labelSmoothing + " must be in [0, 1)");
    }

    /** The plain recipe: batch 64, SGD lr 0.01 momentum 0.9, no schedule, no augmentation. */
    public static TrainConfig plain(int epochs) {
        return new TrainConfig(epochs, 64, "momentum", 0.01, 0, "none", 0, BatchLoader.Augmentation.NONE, 0, 1, null, false);
    }

    public TrainConfig withOut(Path dir) {
        return new TrainConfig(epochs, batch, optimizer, lr, weightDecay, schedule, labelSmoothing, augmentation, patience, seed, dir, resume);
    }
}
