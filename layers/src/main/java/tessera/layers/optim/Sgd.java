package tessera.layers.optim;

import java.util.List;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay — the update of
 * {@code torch.optim.SGD}:
 * <pre>
 *   d = g + weight_decay·p
 *   if momentum ≠ 0:  buf = d (first step) or momentum·buf + (1 − dampening)·d
 *                     d = nesterov ? d + momentum·buf : buf
 *   p = p − lr·d
 * </pre>
 * Hyper-parameters: {@code lr}, {@code momentum} (0), {@code dampening} (0), {@code weight_decay} (0),
 * {@code nesterov} (0/1; needs momentum &gt; 0 and dampening 0). State: {@code momentum_buffer}.
 */
public final class Sgd extends Optimizer {
    public static final String MOMENTUM = "momentum";
    public static final String DAMPENING = "dampening";
    public static final String NESTEROV = "nesterov";
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    /** Groups with these defaults for keys they leave unset. */
    public Sgd(List<ParamGroup> groups, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super("SGD", groups, defaults(ParamGroup.LR, lr, MOMENTUM, momentum, DAMPENING, dampening,
                ParamGroup.WEIGHT_DECAY, weightDecay, NESTEROV, nesterov));
    }

    /** Plain SGD over one group. */
    public static Sgd of(List<Variable> params, double lr) { return of(params, lr, 0, 0, 0, false); }

    /** One group with these hyper-parameters. */
    public static Sgd of(List<Variable> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        return new Sgd(oneGroup(params), lr, momentum, dampening, weightDecay, nesterov);
    }

    @Override
    protected List<String> stateNames() { return List.of(MOMENTUM_BUFFER); }

    @Override
    protected void validate(ParamGroup g, int index) {
        requireRange(g, index, ParamGroup.LR, 0, Double.MAX_VALUE);
        requireRange(g, index, MOMENTUM, 0, Double.MAX_VALUE);
        requireRange(g, index, DAMPENING, 0, 1);
        requireRange(g, index, ParamGroup.WEIGHT_DECAY, 0, Double.MAX_VALUE);
        requireFlag(g, index, NESTEROV);
        if (g.flag(NESTEROV) && (g.get(MOMENTUM) <= 0 || g.get(DAMPENING) != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum in parameter group " + index + " needs momentum > 0 and dampening 0, got momentum "
                    + g.get(MOMENTUM) + " and dampening " + g.get(DAMPENING));
        }
    }

    @Override
    protected void update(ParamGroup g, Tensor p, Tensor grad, ParamState s) {
        double lr = g.lr(), wd = g.weightDecay(), momentum = g.get(MOMENTUM), dampening = g.get(DAMPENING);
        boolean nesterov = g.flag(NESTEROV);
        if (momentum == 0) {
            if (p.dtype() == DType.F32) {
                OptimKernels.sgdPlainF32(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), p.numel(), (float) lr, (float) wd);
            } else {
                OptimKernels.sgdF64(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), null, 0, p.numel(),
                        lr, wd, 0, dampening, false, false);
            }
            return;
        }
        boolean first = !s.has(MOMENTUM_BUFFER);
        Tensor b = s.buffer(MOMENTUM_BUFFER);
        if (p.dtype() == DType.F32) {
            // buf = bm·buf + bd·d (first step: buf = d);  u = ub·buf + ud·d (Nesterov: d + momentum·buf)
            OptimKernels.sgdMomentumF32(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), b.segment(), b.byteOffset(),
                    p.numel(), (float) lr, (float) wd, first ? 0f : (float) momentum, first ? 1f : (float) (1 - dampening),
                    nesterov ? (float) momentum : 1f, nesterov ? 1f : 0f);
        } else {
            OptimKernels.sgdF64(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), b.segment(), b.byteOffset(), p.numel(),
                    lr, wd, momentum, dampening, nesterov, first);
        }
    }
}
