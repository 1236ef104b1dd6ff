package tessera.layers.builtin;

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

/** A pointwise activation: ReLU, LeakyReLU, ELU, Sigmoid, Tanh, SiLU (= Swish), Mish, Softplus. */
public final class ActivationLayer extends AbstractLayer {
    private final Activation activation;
    private final float alpha;

    public ActivationLayer(String type, Activation activation, float alpha) {
        super(type);
        this.activation = activation;
        this.alpha = alpha;
    }

    public Activation activation() { return activation; }
    public float alpha() { return alpha; }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.activation(x, activation, alpha); }

    @Override
    public int[] outputShape(int[] in) { return in.clone(); }

    private abstract static class ActProvider extends BaseProvider {
        private final Activation act;
        private final String alphaArg;

        ActProvider(String name, Activation act, String description, ArgSpec... args) {
            super(name, description, args);
            this.act = act;
            this.alphaArg = args.length > 0 ? args[0].name() : null;
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            return new ActivationLayer(name(), act, alphaArg == null ? 0f : (float) a.getDouble(alphaArg));
        }
    }

    /** {@code ReLU}: max(0, x). */
    public static final class Relu extends ActProvider {
        public Relu() { super("ReLU", Activation.RELU, "max(0, x)"); }
    }

    /** {@code LeakyReLU}: x if x ≥ 0 else slope·x. */
    public static final class LeakyRelu extends ActProvider {
        public LeakyRelu() {
            super("LeakyReLU", Activation.LEAKY_RELU, "x if x >= 0 else negative_slope·x",
                    ArgSpec.withDefault("negative_slope", ArgType.DOUBLE, 0.01, -1e6, 1e6, 0.01, 0.3, "slope for x < 0"));
        }
    }

    /** {@code ELU}: x if x > 0 else α(eˣ − 1). */
    public static final class Elu extends ActProvider {
        public Elu() {
            super("ELU", Activation.ELU, "x if x > 0 else alpha·(exp(x) − 1)",
                    ArgSpec.withDefault("alpha", ArgType.DOUBLE, 1.0, 0, 1e6, 0.5, 2, "saturation value for x → −∞"));
        }
    }

    /** {@code Sigmoid}. */
    public static final class Sigmoid extends ActProvider {
        public Sigmoid() { super("Sigmoid", Activation.SIGMOID, "1 / (1 + exp(−x))"); }
    }

    /** {@code Tanh}. */
    public static final class Tanh extends ActProvider {
        public Tanh() { super("Tanh", Activation.TANH, "hyperbolic tangent"); }
    }

    /** {@code SiLU}: x·σ(x). */
    public static final class Silu extends ActProvider {
        public Silu() { super("SiLU", Activation.SILU, "x·sigmoid(x) (also called Swish)"); }
    }

    /** {@code Swish}: the same function as SiLU, under its other name. */
    public static final class Swish extends ActProvider {
        public Swish() { super("Swish", Activation.SILU, "x·sigmoid(x) (same as SiLU)"); }
    }

    /** {@code Mish}: x·tanh(softplus(x)). */
    public static final class Mish extends ActProvider {
        public Mish() { super("Mish", Activation.MISH, "x·tanh(softplus(x))"); }
    }

    /** {@code Softplus}: ln(1 + eˣ). */
    public static final class Softplus extends ActProvider {
        public Softplus() { super("Softplus", Activation.SOFTPLUS, "log(1 + exp(x)) (beta 1, threshold 20)"); }
    }
}
