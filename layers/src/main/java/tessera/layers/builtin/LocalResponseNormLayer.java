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
import tessera.layers.ShapeException;

/** Local response normalization across channels (torch.nn.LocalResponseNorm; AlexNet uses size 5, α 1e-4, β 0.75, k 2). */
public final class LocalResponseNormLayer extends AbstractLayer {
    private final int size;
    private final double alpha, beta, k;

    LocalResponseNormLayer(int size, double alpha, double beta, double k) {
        super("LocalResponseNorm");
        this.size = size;
        this.alpha = alpha;
        this.beta = beta;
        this.k = k;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.localResponseNorm(x, size, alpha, beta, k); }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3) throw new ShapeException("LocalResponseNorm", in, "[C, H, W]");
        return in.clone();
    }

    /** Provider of {@code LocalResponseNorm}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("LocalResponseNorm", "normalizes each activation by the energy of its neighbouring channels",
                    ArgSpec.required("size", ArgType.INT, 1, 1024, 1, 5, "number of neighbouring channels"),
                    ArgSpec.withDefault("alpha", ArgType.DOUBLE, 1e-4, 0, 1e6, 0.1, 1, "scale"),
                    ArgSpec.withDefault("beta", ArgType.DOUBLE, 0.75, 0, 100, 0.5, 1, "exponent"),
                    ArgSpec.withDefault("k", ArgType.DOUBLE, 1.0, 1e-6, 1e6, 1, 2, "additive constant"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            return new LocalResponseNormLayer(a.getInt("size"), a.getDouble("alpha"), a.getDouble("beta"), a.getDouble("k"));
        }
    }
}
