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

/** Inverted dropout (torch.nn.Dropout): zeroes elements with probability p in training, scales the rest by 1/(1−p). */
public final class DropoutLayer extends AbstractLayer {
    private final double p;

    public DropoutLayer(double p) {
        super("Dropout");
        this.p = p;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        return Ops.dropout(x, p, isTraining(), context.nextSeed());
    }

    @Override
    public int[] outputShape(int[] in) { return in.clone(); }

    /** Provider of {@code Dropout}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Dropout", "inverted dropout (identity in eval)",
                    ArgSpec.withDefault("p", ArgType.DOUBLE, 0.5, 0, 0.999999, 0.1, 0.5, "drop probability"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new DropoutLayer(a.getDouble("p")); }
    }
}
