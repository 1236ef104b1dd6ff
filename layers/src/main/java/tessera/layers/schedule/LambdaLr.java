package tessera.layers.schedule;

import java.util.List;
import java.util.function.IntToDoubleFunction;
import tessera.layers.optim.Optimizer;

/**
 * {@code torch.optim.lr_scheduler.LambdaLR}: lr = base·λ(epoch), one λ for all groups or one per group.
 * A λ returning a negative or non-finite factor is rejected when it is applied.
 */
public final class LambdaLr extends LrScheduler {
    private final List<IntToDoubleFunction> lambdas;

    /** The same factor function for every group. */
    public LambdaLr(Optimizer optimizer, IntToDoubleFunction lambda) {
        this(optimizer, nCopies(optimizer, lambda));
    }

    /** One factor function per parameter group, in group order. */
    public LambdaLr(Optimizer optimizer, List<IntToDoubleFunction> lambdas) {
        super(optimizer);
        if (lambdas == null || lambdas.size() != optimizer.paramGroups().size()) {
            throw new IllegalArgumentException("LambdaLr: expected " + optimizer.paramGroups().size() + " lambdas (one per parameter group), got "
                    + (lambdas == null ? "null" : lambdas.size()));
        }
        for (int i = 0; i < lambdas.size(); i++) {
            if (lambdas.get(i) == null) throw new IllegalArgumentException("LambdaLr: lambda " + i + " is null");
        }
        this.lambdas = List.copyOf(lambdas);
        start();
    }

    private static List<IntToDoubleFunction> nCopies(Optimizer optimizer, IntToDoubleFunction lambda) {
        if (optimizer == null) throw new IllegalArgumentException("scheduler: optimizer is null");
        if (lambda == null) throw new IllegalArgumentException("LambdaLr: lambda is null");
        return java.util.Collections.nCopies(optimizer.paramGroups().size(), lambda);
    }

    @Override
    protected double lrAt(int group, double baseLr, int epoch) {
        double f = lambdas.get(group).applyAsDouble(epoch);
        if (!(f >= 0) || !Double.isFinite(f)) {
            throw new IllegalArgumentException("LambdaLr: lambda of group " + group + " returned " + f + " at epoch " + epoch
                    + ", expected a finite factor >= 0");
        }
        return baseLr * f;
    }
}
