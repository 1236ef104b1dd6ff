package tessera.layers.schedule;

import tessera.layers.optim.Optimizer;

/** {@code torch.optim.lr_scheduler.StepLR}: lr = base·gamma^⌊epoch / stepSize⌋. */
public final class StepLr extends LrScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLr(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize < 1) throw new IllegalArgumentException("StepLr: stepSize must be >= 1, got " + stepSize);
        requirePositive("StepLr", "gamma", gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
        start();
    }

    @Override
    protected double lrAt(int group, double baseLr, int epoch) { return baseLr * Math.pow(gamma, epoch / stepSize); }
}
