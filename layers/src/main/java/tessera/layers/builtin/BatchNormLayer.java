package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Batch normalization over channels (torch.nn.BatchNorm1d on [N, C], BatchNorm2d on [N, C, H, W]): γ = 1, β = 0
 * initially; running mean 0 and variance 1 updated with momentum in training; running statistics in eval.
 */
public final class BatchNormLayer extends AbstractLayer {
    private final int channels, rank;
    private final double eps, momentum;
    private final Variable gamma, beta;
    private final Tensor runningMean, runningVar;

    public BatchNormLayer(String type, int channels, int rank, double eps, double momentum, DType dtype) {
        super(type);
        this.channels = channels;
        this.rank = rank;
        this.eps = eps;
        this.momentum = momentum;
        gamma = addParameter("weight", dtype, channels);
        gamma.value().fill(1);
        beta = addParameter("bias", dtype, channels);
        runningMean = addBuffer("running_mean", dtype, 0, channels);
        runningVar = addBuffer("running_var", dtype, 1, channels);
    }

    public Variable gamma() { return gamma; }
    public Variable beta() { return beta; }
    public Tensor runningMean() { return runningMean; }
    public Tensor runningVar() { return runningVar; }
    public double eps() { return eps; }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        return Ops.batchNorm(x, gamma, beta, runningMean, runningVar, isTraining(), momentum, eps);
    }

    /** relu(this(x)) in training mode, as one op ({@link Ops#batchNormRelu}). */
    public Variable forwardRelu(Variable x) {
        if (!isTraining()) throw new IllegalStateException("forwardRelu is the training-mode fusion; this batch norm is in eval mode");
        return Ops.batchNormRelu(x, gamma, beta, runningMean, runningVar, momentum, eps);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != rank || in[0] != channels) {
            throw new ShapeException(type(), in, rank == 1 ? "[" + channels + "]" : "[" + channels + ", H, W]");
        }
        return in.clone();
    }

    private abstract static class BnProvider extends BaseProvider {
        private final int rank;

        BnProvider(String name, int rank) {
            super(name, "batch normalization over channels (" + (rank == 1 ? "[N, C]" : "[N, C, H, W]") + ")",
                    ArgSpec.inferred("num_features", ArgType.INT, 1, 1 << 20, "channels (inferred when absent)"),
                    ArgSpec.withDefault("eps", ArgType.DOUBLE, 1e-5, 0, 1, 1e-5, 1e-5, "added to the variance"),
                    ArgSpec.withDefault("momentum", ArgType.DOUBLE, 0.1, 0, 1, 0.1, 0.1, "running-statistics update factor"));
            this.rank = rank;
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int c = ctx.inputDim(0, rank, name());
            if (a.has("num_features") && a.getInt("num_features") != c) {
                throw new ShapeException(name(), ctx.inputShape(), "num_features=" + a.getInt("num_features") + " channels");
            }
            return new BatchNormLayer(name(), c, rank, a.getDouble("eps"), a.getDouble("momentum"), ctx.dtype());
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            int c = a.has("num_features") ? a.getInt("num_features") : 1 + r.nextInt(3);
            return rank == 1 ? new int[]{c} : new int[]{c, 1 + r.nextInt(3), 1 + r.nextInt(3)};
        }
    }

    /** Provider of {@code BatchNorm1d}. */
    public static final class Provider1d extends BnProvider {
        public Provider1d() { super("BatchNorm1d", 1); }
    }

    /** Provider of {@code BatchNorm2d}. */
    public static final class Provider2d extends BnProvider {
        public Provider2d() { super("BatchNorm2d", 3); }
    }
}
