package tessera.properties.plugins;

import java.util.List;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.Activation;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.LayerProvider;

/**
 * A correct third-party plugin layer: y = scale · tanh(x) with one learnable scalar {@code scale}. It composes
 * {@link Ops}, so its gradient comes from the op table; found through {@code META-INF/services} with no change to
 * the library.
 */
public final class ScaledTanhLayer extends AbstractLayer {
    private final Variable scale;

    public ScaledTanhLayer(double init, BuildContext ctx) {
        super("ScaledTanh");
        scale = addParameter("scale", ctx.dtype(), 1);
        scale.value().fill(init);
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        return Ops.mul(Ops.activation(x, Activation.TANH, 0f), scale);   // scale [1] broadcasts over the batch
    }

    @Override
    public int[] outputShape(int[] inputShape) { return inputShape.clone(); }

    /** The provider: name, schema and factory. */
    public static final class Provider implements LayerProvider {
        @Override public String name() { return "ScaledTanh"; }
        @Override public String description() { return "scale · tanh(x) with a learnable scalar scale"; }
        @Override public List<ArgSpec> arguments() {
            return List.of(ArgSpec.withDefault("scale", ArgType.DOUBLE, 1.0, -100, 100, 0.5, 2, "initial scale"));
        }
        @Override public Layer create(Args args, BuildContext ctx) { return new ScaledTanhLayer(args.getDouble("scale"), ctx); }
    }
}
