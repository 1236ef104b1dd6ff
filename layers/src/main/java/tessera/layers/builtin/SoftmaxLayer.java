package tessera.layers.builtin;

import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;

/** Softmax (or log-softmax) along a dimension of the batch tensor (default 1, the class/channel dimension). */
public final class SoftmaxLayer extends AbstractLayer {
    private final int dim;
    private final boolean log;

    SoftmaxLayer(String type, int dim, boolean log) {
        super(type);
        this.dim = dim;
        this.log = log;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        return log ? Ops.logSoftmax(x, dim) : Ops.softmax(x, dim);
    }

    @Override
    public int[] outputShape(int[] in) { return in.clone(); }

    /** Provider of {@code Softmax}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Softmax", "exp(x) normalized to sum 1 along dim",
                    ArgSpec.withDefault("dim", ArgType.INT, 1, 1, 8, 1, 1, "dimension of the batch tensor"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new SoftmaxLayer("Softmax", a.getInt("dim"), false); }
    }

    /** Provider of {@code LogSoftmax}. */
    public static final class LogProvider extends BaseProvider {
        public LogProvider() {
            super("LogSoftmax", "log of softmax along dim, computed stably",
                    ArgSpec.withDefault("dim", ArgType.INT, 1, 1, 8, 1, 1, "dimension of the batch tensor"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new SoftmaxLayer("LogSoftmax", a.getInt("dim"), true); }
    }
}
