package tessera.layers.schedule;

import tessera.layers.optim.Optimizer;

/**
 * {@code torch.optim.lr_scheduler.CosineAnnealingLR}, closed form:
 * lr = eta_min + (base − eta_min)·(1 + cos(π·epoch / T_max)) / 2.
 * (After T_max the closed form rises again, as PyTorch's {@code _get_closed_form_lr} does.)
 */
public final class CosineAnnealingLr extends LrScheduler {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLr(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax < 1) throw new IllegalArgumentException("CosineAnnealingLr: tMax must be >= 1, got " + tMax);
        if (!(etaMin >= 0) || !Double.isFinite(etaMin)) throw new IllegalArgumentException("CosineAnnealingLr: etaMin must be finite and >= 0, got " + etaMin);
        this.tMax = tMax;
        this.etaMin = etaMin;
        start();
    }

    public CosineAnnealingLr(Optimizer optimizer, int tMax) { this(optimizer, tMax, 0); }

    @Override
    protected double lrAt(int group, double baseLr, int epoch) {
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
}
