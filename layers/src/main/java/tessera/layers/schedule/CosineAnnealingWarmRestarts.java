package tessera.layers.schedule;

import tessera.layers.optim.Optimizer;

/**
 * {@code torch.optim.lr_scheduler.CosineAnnealingWarmRestarts} (SGDR): the rate follows a cosine from base down
 * towards eta_min over a period T_i, then restarts at base; periods grow T_0, T_0·T_mult, T_0·T_mult², …
 * lr = eta_min + (base − eta_min)·(1 + cos(π·T_cur / T_i)) / 2, where T_cur is the number of epochs since the last
 * restart.
 */
public final class CosineAnnealingWarmRestarts extends LrScheduler {
    private final int t0;
    private final int tMult;
    private final double etaMin;

    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult, double etaMin) {
        super(optimizer);
        if (t0 < 1) throw new IllegalArgumentException("CosineAnnealingWarmRestarts: t0 must be >= 1, got " + t0);
        if (tMult < 1) throw new IllegalArgumentException("CosineAnnealingWarmRestarts: tMult must be >= 1, got " + tMult);
        if (!(etaMin >= 0) || !Double.isFinite(etaMin)) {
            throw new IllegalArgumentException("CosineAnnealingWarmRestarts: etaMin must be finite and >= 0, got " + etaMin);
        }
        this.t0 = t0;
        this.tMult = tMult;
        this.etaMin = etaMin;
        start();
    }

    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0) { this(optimizer, t0, 1, 0); }

    /** {T_cur, T_i} at {@code epoch}: found by walking the periods in exact integer arithmetic. */
    long[] position(int epoch) {
        if (tMult == 1) return new long[]{epoch % t0, t0};
        long tCur = epoch, ti = t0;
        while (tCur >= ti) {
            tCur -= ti;
            ti *= tMult;
        }
        return new long[]{tCur, ti};
    }

    @Override
    protected double lrAt(int group, double baseLr, int epoch) {
        long[] pos = position(epoch);
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * pos[0] / pos[1])) / 2;
    }
}
