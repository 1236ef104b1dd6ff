package tessera.layers.schedule;

import tessera.layers.optim.Optimizer;

/** {@code torch.optim.lr_scheduler.ExponentialLR}: lr = base·gamma^epoch. */
public final class ExponentialLr extends LrScheduler {
    private final double gamma;

    public ExponentialLr(Optimizer optimizer, double gamma) {
        super(optimizer);
        requirePositive("ExponentialLr", "gamma", gamma);
        this.gamma = gamma;
        start();
    }

    @Override
    protected double lrAt(int group, double baseLr, int epoch) { return baseLr * Math.pow(gamma, epoch); }
}
