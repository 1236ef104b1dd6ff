package tessera.zoo.train;

import java.util.List;
import tessera.autograd.Variable;
import tessera.layers.optim.Adam;
import tessera.layers.optim.AdamW;
import tessera.layers.optim.Optimizer;
import tessera.layers.optim.RmsProp;
import tessera.layers.optim.Sgd;
import tessera.layers.schedule.CosineAnnealingLr;
import tessera.layers.schedule.ExponentialLr;
import tessera.layers.schedule.LrScheduler;
import tessera.layers.schedule.StepLr;

/** The optimizer and per-epoch learning-rate schedule named in a {@link TrainConfig}. */
final class Optimizers {
    private Optimizers() {}

    /** An optimizer with its schedule. */
    record Handle(Optimizer optimizer, LrScheduler schedule) implements AutoCloseable {
        void step() { optimizer.step(); }
        void zeroGrad() { optimizer.zeroGrad(); }
        double learningRate() { return optimizer.lr(); }
        void endEpoch() { if (schedule != null) schedule.step(); }

        @Override
        public void close() { optimizer.close(); }
    }

    static Handle create(TrainConfig c, List<Variable> params) {
        Optimizer o = switch (c.optimizer()) {
            case "sgd" -> Sgd.of(params, c.lr(), 0, 0, c.weightDecay(), false);
            case "momentum" -> Sgd.of(params, c.lr(), 0.9, 0, c.weightDecay(), false);
            case "nesterov" -> Sgd.of(params, c.lr(), 0.9, 0, c.weightDecay(), true);
            case "rmsprop" -> RmsProp.of(params, c.lr(), 0.99, 1e-8, c.weightDecay(), 0, false);
            case "adam" -> Adam.of(params, c.lr(), 0.9, 0.999, 1e-8, c.weightDecay(), false);
            case "adamw" -> AdamW.of(params, c.lr(), 0.9, 0.999, 1e-8, c.weightDecay() > 0 ? c.weightDecay() : 0.01, false);
            default -> throw new IllegalArgumentException("--optimizer '" + c.optimizer()
                    + "' is not one of sgd, momentum, nesterov, rmsprop, adam, adamw");
        };
        LrScheduler s = switch (c.schedule()) {
            case "none" -> null;
            case "step" -> new StepLr(o, Math.max(1, c.epochs() / 3), 0.1);
            case "exp" -> new ExponentialLr(o, 0.9);
            case "cosine" -> new CosineAnnealingLr(o, c.epochs(), 0);
            default -> {
                o.close();
                throw new IllegalArgumentException("--schedule '" + c.schedule() + "' is not one of none, step, exp, cosine");
            }
        };
        return new Handle(o, s);
    }
}
