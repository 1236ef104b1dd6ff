package tessera.layers.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Adam with L2 weight decay and optional AMSGrad — the update of {@code torch.optim.Adam}, at step t (per parameter):
 * <pre>
 *   d = g + weight_decay·p
 *   m = β1·m + (1 − β1)·d;    v = β2·v + (1 − β2)·d²
 *   amsgrad:  v̂ = max(v̂, v) and v̂ replaces v below
 *   p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 * </pre>
 * Hyper-parameters: {@code lr}, {@code beta1} (0.9), {@code beta2} (0.999), {@code eps} (1e-8),
 * {@code weight_decay} (0), {@code amsgrad} (0/1). State: {@code exp_avg}, {@code exp_avg_sq}, {@code max_exp_avg_sq}.
 * {@link AdamW} is the same with decoupled weight decay.
 */
public final class Adam extends Optimizer {
    public static final String BETA1 = "beta1";
    public static final String BETA2 = "beta2";
    public static final String EPS = "eps";
    public static final String AMSGRAD = "amsgrad";
    public static final String EXP_AVG = "exp_avg";
    public static final String EXP_AVG_SQ = "exp_avg_sq";
    public static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";

    /** Groups with these defaults for keys they leave unset. */
    public Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        super("Adam", groups, defaults(ParamGroup.LR, lr, BETA1, beta1, BETA2, beta2, EPS, eps,
                ParamGroup.WEIGHT_DECAY, weightDecay, AMSGRAD, amsgrad));
    }

    /** One group with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, no weight decay, no AMSGrad). */
    public static Adam of(List<Variable> params, double lr) { return of(params, lr, 0.9, 0.999, 1e-8, 0, false); }

    /** One group with these hyper-parameters. */
    public static Adam of(List<Variable> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        return new Adam(oneGroup(params), lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    @Override
    protected List<String> stateNames() { return List.of(EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ); }

    @Override
    protected void validate(ParamGroup g, int index) { validateAdam(this, g, index); }

    @Override
    protected void update(ParamGroup g, Tensor p, Tensor grad, ParamState s) { apply(g, p, grad, s, false); }

    static void validateAdam(Optimizer o, ParamGroup g, int index) {
        o.requireRange(g, index, ParamGroup.LR, 0, Double.MAX_VALUE);
        o.requireRangeOpenTop(g, index, BETA1, 0, 1);
        o.requireRangeOpenTop(g, index, BETA2, 0, 1);
        o.requireRange(g, index, EPS, 0, Double.MAX_VALUE);
        o.requireRange(g, index, ParamGroup.WEIGHT_DECAY, 0, Double.MAX_VALUE);
        o.requireFlag(g, index, AMSGRAD);
    }

    /** The Adam update; {@code decoupled} selects AdamW's p·(1 − lr·wd) instead of the L2 gradient term. */
    static void apply(ParamGroup g, Tensor p, Tensor grad, ParamState s, boolean decoupled) {
        double lr = g.lr(), beta1 = g.get(BETA1), beta2 = g.get(BETA2), eps = g.get(EPS), wd = g.weightDecay();
        double bc1 = 1 - Math.pow(beta1, s.step());
        double bc2 = 1 - Math.pow(beta2, s.step());
        Tensor m = s.buffer(EXP_AVG), v = s.buffer(EXP_AVG_SQ);
        Tensor vmax = g.flag(AMSGRAD) ? s.buffer(MAX_EXP_AVG_SQ) : null;
        MemorySegment xs = vmax == null ? null : vmax.segment();
        long xo = vmax == null ? 0 : vmax.byteOffset();
        if (p.dtype() == DType.F32) {
            OptimKernels.adamF32(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), m.segment(), m.byteOffset(),
                    v.segment(), v.byteOffset(), xs, xo, p.numel(), (float) (lr / bc1), (float) (1 / Math.sqrt(bc2)),
                    (float) beta1, (float) beta2, (float) eps, decoupled ? 0f : (float) wd, decoupled ? (float) (1 - lr * wd) : 1f);
        } else {
            OptimKernels.adamF64(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), m.segment(), m.byteOffset(),
                    v.segment(), v.byteOffset(), xs, xo, p.numel(), lr, bc1, bc2, beta1, beta2, eps, wd, decoupled);
        }
    }
}
