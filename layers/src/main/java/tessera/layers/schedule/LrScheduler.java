package tessera.layers.schedule;

import tessera.layers.optim.Optimizer;

/**
 * A per-epoch learning-rate schedule over an {@link Optimizer}'s parameter groups, with PyTorch's closed forms.
 *
 * <p>At construction the scheduler records each group's current learning rate as that group's base rate and sets
 * the rate of epoch 0. {@link #step()} advances one epoch and writes {@code lr(group, epoch)} into every group.
 * Rates are computed from the closed form, never by chaining multiplications, so they do not drift and
 * {@link #setEpoch} can resume a run.
 */
public abstract class LrScheduler {
    private final Optimizer optimizer;
    private final double[] baseLrs;
    private int epoch;

    protected LrScheduler(Optimizer optimizer) {
        if (optimizer == null) throw new IllegalArgumentException("scheduler: optimizer is null");
        this.optimizer = optimizer;
        int n = optimizer.paramGroups().size();
        this.baseLrs = new double[n];
        for (int i = 0; i < n; i++) baseLrs[i] = optimizer.lr(i);
    }

    /** Must be called at the end of a subclass constructor (after its fields are set): applies epoch 0. */
    protected final void start() { apply(); }

    /** The learning rate of group {@code group} at {@code epoch} (≥ 0), from the closed form. */
    public final double lr(int group, int epoch) {
        if (group < 0 || group >= baseLrs.length) {
            throw new IllegalArgumentException("scheduler: group " + group + " out of range [0, " + baseLrs.length + ")");
        }
        if (epoch < 0) throw new IllegalArgumentException("scheduler: epoch must be >= 0, got " + epoch);
        return lrAt(group, baseLrs[group], epoch);
    }

    /** The learning rate of group 0 at {@code epoch}. */
    public final double lr(int epoch) { return lr(0, epoch); }

    /** The closed form: rate of a group with base rate {@code baseLr} at {@code epoch}. */
    protected abstract double lrAt(int group, double baseLr, int epoch);

    /** Advances one epoch and applies its rates to the optimizer. */
    public final void step() {
        epoch++;
        apply();
    }

    /** Jumps to {@code epoch} (e.g. when resuming) and applies its rates. */
    public final void setEpoch(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("scheduler: epoch must be >= 0, got " + epoch);
        this.epoch = epoch;
        apply();
    }

    /** The current epoch (0 before the first {@link #step()}). */
    public final int epoch() { return epoch; }

    /** The base rate of group {@code group}. */
    public final double baseLr(int group) { return baseLrs[group]; }

    public final Optimizer optimizer() { return optimizer; }

    private void apply() {
        for (int i = 0; i < baseLrs.length; i++) optimizer.setLr(i, lr(i, epoch));
    }

    static void requirePositive(String who, String what, double v) {
        if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(who + ": " + what + " must be finite and > 0, got " + v);
    }
}
