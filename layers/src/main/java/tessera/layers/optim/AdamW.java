package tessera.layers.optim;

import java.util.List;
import tessera.autograd.Variable;
import tessera.memory.Tensor;

/**
 * AdamW: Adam with decoupled weight decay (Loshchilov &amp; Hutter) — the update of {@code torch.optim.AdamW}:
 * first p = p·(1 − lr·weight_decay), then the {@link Adam} update without the L2 term.
 * Hyper-parameters as {@link Adam}, but {@code weight_decay} defaults to 0.01 in {@link #of(List, double)}.
 */
public final class AdamW extends Optimizer {
    /** Groups with these defaults for keys they leave unset. */
    public AdamW(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        super("AdamW", groups, defaults(ParamGroup.LR, lr, Adam.BETA1, beta1, Adam.BETA2, beta2, Adam.EPS, eps,
                ParamGroup.WEIGHT_DECAY, weightDecay, Adam.AMSGRAD, amsgrad));
    }

    /** One group with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01, no AMSGrad). */
    public static AdamW of(List<Variable> params, double lr) { return of(params, lr, 0.9, 0.999, 1e-8, 0.01, false); }

    /** One group with these hyper-parameters. */
    public static AdamW of(List<Variable> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        return new AdamW(oneGroup(params), lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    @Override
    protected List<String> stateNames() { return List.of(Adam.EXP_AVG, Adam.EXP_AVG_SQ, Adam.MAX_EXP_AVG_SQ); }

    @Override
    protected void validate(ParamGroup g, int index) { Adam.validateAdam(this, g, index); }

    @Override
    protected void update(ParamGroup g, Tensor p, Tensor grad, ParamState s) { Adam.apply(g, p, grad, s, true); }
}
