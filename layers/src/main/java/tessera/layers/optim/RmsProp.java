package tessera.layers.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * RMSprop — the update of {@code torch.optim.RMSprop}:
 * <pre>
 *   d = g + weight_decay·p
 *   sq = alpha·sq + (1 − alpha)·d²
 *   centered:  ga = alpha·ga + (1 − alpha)·d;   avg = √(sq − ga²) + eps      otherwise  avg = √sq + eps
 *   momentum &gt; 0:  buf = momentum·buf + d/avg;   p = p − lr·buf              otherwise  p = p − lr·d/avg
 * </pre>
 * Hyper-parameters: {@code lr}, {@code alpha} (0.99), {@code eps} (1e-8), {@code weight_decay} (0),
 * {@code momentum} (0), {@code centered} (0/1). State: {@code square_avg}, {@code grad_avg}, {@code momentum_buffer}.
 */
public final class RmsProp extends Optimizer {
    public static final String ALPHA = "alpha";
    public static final String EPS = "eps";
    public static final String MOMENTUM = "momentum";
    public static final String CENTERED = "centered";
    public static final String SQUARE_AVG = "square_avg";
    public static final String GRAD_AVG = "grad_avg";
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    /** Groups with these defaults for keys they leave unset. */
    public RmsProp(List<ParamGroup> groups, double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        super("RMSprop", groups, defaults(ParamGroup.LR, lr, ALPHA, alpha, EPS, eps, ParamGroup.WEIGHT_DECAY, weightDecay,
                MOMENTUM, momentum, CENTERED, centered));
    }

    /** One group with PyTorch's defaults (alpha 0.99, eps 1e-8, no decay, no momentum, not centered). */
    public static RmsProp of(List<Variable> params, double lr) { return of(params, lr, 0.99, 1e-8, 0, 0, false); }

    /** One group with these hyper-parameters. */
    public static RmsProp of(List<Variable> params, double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        return new RmsProp(oneGroup(params), lr, alpha, eps, weightDecay, momentum, centered);
    }

    @Override
    protected List<String> stateNames() { return List.of(SQUARE_AVG, GRAD_AVG, MOMENTUM_BUFFER); }

    @Override
    protected void validate(ParamGroup g, int index) {
        requireRange(g, index, ParamGroup.LR, 0, Double.MAX_VALUE);
        requireRange(g, index, ALPHA, 0, 1);
        requireRange(g, index, EPS, 0, Double.MAX_VALUE);
        requireRange(g, index, ParamGroup.WEIGHT_DECAY, 0, Double.MAX_VALUE);
        requireRange(g, index, MOMENTUM, 0, Double.MAX_VALUE);
        requireFlag(g, index, CENTERED);
    }

    @Override
    protected void update(ParamGroup g, Tensor p, Tensor grad, ParamState s) {
        double lr = g.lr(), alpha = g.get(ALPHA), eps = g.get(EPS), wd = g.weightDecay(), momentum = g.get(MOMENTUM);
        Tensor sq = s.buffer(SQUARE_AVG);
        Tensor ga = g.flag(CENTERED) ? s.buffer(GRAD_AVG) : null;
        Tensor buf = momentum > 0 ? s.buffer(MOMENTUM_BUFFER) : null;
        MemorySegment gaSeg = ga == null ? null : ga.segment(), bufSeg = buf == null ? null : buf.segment();
        long gaOff = ga == null ? 0 : ga.byteOffset(), bufOff = buf == null ? 0 : buf.byteOffset();
        if (p.dtype() == DType.F32) {
            OptimKernels.rmspropF32(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), sq.segment(), sq.byteOffset(),
                    gaSeg, gaOff, bufSeg, bufOff, p.numel(), (float) lr, (float) alpha, (float) eps, (float) wd, (float) momentum);
        } else {
            OptimKernels.rmspropF64(p.segment(), p.byteOffset(), grad.segment(), grad.byteOffset(), sq.segment(), sq.byteOffset(),
                    gaSeg, gaOff, bufSeg, bufOff, p.numel(), lr, alpha, eps, wd, momentum);
        }
    }
}
