package tessera.cli;

import tessera.layers.ModelSpec;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.data.Mnist;
import tessera.zoo.models.Zoo;
import tessera.zoo.train.TrainConfig;

/**
 * The demo's documented recipe for LeNet-5 on the 8,000-digit subset: LeNet-5 with batch norm, SGD with Nesterov
 * momentum 0.9, learning rate 0.05 with cosine annealing, weight decay 5e-4, batch 64, random ±2-pixel shifts
 * (crop after 2-pixel padding), label smoothing 0.05, and test-time averaging over ±1-pixel shifts.
 */
final class DemoRecipe {
    private DemoRecipe() {}

    static ModelSpec model(int classes, int[] input) { return Zoo.lenet5Bn(classes, input); }

    static TrainConfig config(int epochs) {
        return new TrainConfig(epochs, 64, "nesterov", 0.05, 5e-4, "cosine", 0.05,
                new BatchLoader.Augmentation(2, false, (float) (-Mnist.MEAN / Mnist.STD)), 0, 1, null, false);
    }

    static String describe(TrainConfig c) {
        return String.format("LeNet-5 + batch norm, %s lr %g (%s schedule), weight decay %g, batch %d, %d epochs, "
                        + "±%d-pixel random shifts, label smoothing %g, test-time averaging over ±1-pixel shifts",
                c.optimizer(), c.lr(), c.schedule(), c.weightDecay(), c.batch(), c.epochs(), c.augmentation().cropPadding(), c.labelSmoothing());
    }
}
