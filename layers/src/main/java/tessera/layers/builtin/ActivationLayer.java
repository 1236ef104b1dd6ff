package tessera.layers.builtin;

import tessera.autograd.Ops;
import tessera.autograd.Variable;
import java.util.function.Function;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;

/**
 * A pointwise activation from the kernel library's table ({@link ActivationFn}): ReLU, LeakyReLU, ELU, Sigmoid, Tanh,
 * SiLU (= Swish), Mish, Softplus, Clamp, Hardsigmoid, Hardswish, SELU, with PyTorch's formulas and gradients.
 */
public final class ActivationLayer extends AbstractLayer {
    private final ActivationFn fn;

    public ActivationLayer(String type, ActivationFn fn) {
        super(type);
        if (fn == null) throw new IllegalArgumentException("activation must not be null");
        this.fn = fn;
    }

    /** The one-scalar form ({@code alpha}: LeakyReLU's slope, ELU's alpha). */
    public ActivationLayer(String type, Activation activation, float alpha) {
        this(type, ActivationFn.of(activation, alpha));
    }

    /** The activation with its parameters. */
    public ActivationFn fn() { return fn; }

    public Activation activation() { return fn.kind(); }

    /** The first parameter ({@link ActivationFn#a()}). */
    public float alpha() { return fn.a(); }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.activation(x, fn); }

    @Override
    public int[] outputShape(int[] in) { return in.clone(); }

    private abstract static class ActProvider extends BaseProvider {
        private final Function<Args, ActivationFn> fn;

        ActProvider(String name, Activation act, String description, ArgSpec... args) {
            this(name, a -> ActivationFn.of(act, args.length > 0 ? (float) a.getDouble(args[0].name()) : 0f), description, args);
        }

        ActProvider(String name, Function<Args, ActivationFn> fn, String description, ArgSpec... args) {
            super(name, description, args);
            this.fn = fn;
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            return new ActivationLayer(name(), fn.apply(a));
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

    /** {@code Clamp}: min(max(x, min), max), as torch.clamp (gradient 1 on [min, max], bounds included); ReLU6 is Clamp(0, 6). */
    public static final class Clamp extends ActProvider {
        public Clamp() {
            super("Clamp", a -> ActivationFn.clip((float) a.getDouble("min"), (float) a.getDouble("max")),
                    "min(max(x, min), max) (torch.clamp; ReLU6 = Clamp(0, 6))",
                    ArgSpec.withDefault("min", ArgType.DOUBLE, 0.0, -1e6, 1e6, -1, -0.1, "lower bound"),
                    ArgSpec.withDefault("max", ArgType.DOUBLE, 6.0, -1e6, 1e6, 0.1, 1, "upper bound (>= min)"));
        }
    }

    /** {@code Hardsigmoid}: max(0, min(1, x/6 + 1/2)) (PyTorch's; alpha and beta as ONNX HardSigmoid). */
    public static final class Hardsigmoid extends ActProvider {
        public Hardsigmoid() {
            super("Hardsigmoid", a -> ActivationFn.hardSigmoid((float) a.getDouble("alpha"), (float) a.getDouble("beta")),
                    "max(0, min(1, alpha·x + beta)) (PyTorch: alpha 1/6, beta 1/2)",
                    ArgSpec.withDefault("alpha", ArgType.DOUBLE, 1.0 / 6, -1e6, 1e6, 0.1, 2, "slope"),
                    ArgSpec.withDefault("beta", ArgType.DOUBLE, 0.5, -1e6, 1e6, 0.2, 0.8, "offset"));
        }
    }

    /** {@code Hardswish}: x·hardsigmoid(x). */
    public static final class Hardswish extends ActProvider {
        public Hardswish() { super("Hardswish", Activation.HARD_SWISH, "x·min(max(x + 3, 0), 6)/6"); }
    }

    /** {@code SELU}: scale·(x if x > 0 else alpha·(eˣ − 1)) with PyTorch's constants. */
    public static final class Selu extends ActProvider {
        public Selu() { super("SELU", a -> ActivationFn.selu(), "1.0507·(x if x > 0 else 1.6733·(exp(x) − 1))"); }
    }
}
