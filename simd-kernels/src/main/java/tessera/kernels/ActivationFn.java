package tessera.kernels;

/**
 * One pointwise activation with its parameters: an immutable (kind, a, b) value, built once (at plan or layer
 * construction) and passed to the kernels, so applying it allocates nothing. Parameters a kind does not read are
 * stored as 0 (so equal activations are {@code equals}). Formulas and gradients follow PyTorch; at a kink the
 * gradient is the one PyTorch's backward returns:
 *
 * <table>
 *   <caption>kinds and parameters</caption>
 *   <tr><th>kind</th><th>a</th><th>b</th><th>y</th><th>dy/dx (kinks)</th></tr>
 *   <tr><td>IDENTITY</td><td>–</td><td>–</td><td>x</td><td>1</td></tr>
 *   <tr><td>RELU</td><td>–</td><td>–</td><td>max(x, 0)</td><td>x &gt; 0 ? 1 : 0 (0 at x = 0)</td></tr>
 *   <tr><td>LEAKY_RELU</td><td>negative slope</td><td>–</td><td>x &gt; 0 ? x : a·x</td><td>x &gt; 0 ? 1 : a</td></tr>
 *   <tr><td>ELU</td><td>alpha</td><td>–</td><td>x &gt; 0 ? x : a·(eˣ − 1)</td><td>x &gt; 0 ? 1 : a·eˣ</td></tr>
 *   <tr><td>SIGMOID, TANH, SILU, MISH</td><td>–</td><td>–</td><td>as torch.nn</td><td>smooth</td></tr>
 *   <tr><td>SOFTPLUS</td><td>–</td><td>–</td><td>log(1 + eˣ), x above 20 passes (beta 1, threshold 20)</td><td>sigmoid(x), 1 above 20</td></tr>
 *   <tr><td>CLIP</td><td>min (may be −∞)</td><td>max (may be +∞)</td><td>min(max(x, a), b)</td>
 *       <td>1 where a ≤ x ≤ b, bounds included ({@code torch.clamp}'s backward), else 0</td></tr>
 *   <tr><td>HARD_SIGMOID</td><td>alpha (slope)</td><td>beta (offset)</td><td>max(0, min(1, a·x + b))</td>
 *       <td>a where 0 &lt; a·x + b &lt; 1, bounds excluded (PyTorch Hardsigmoid: −3 &lt; x &lt; 3), else 0</td></tr>
 *   <tr><td>HARD_SWISH</td><td>–</td><td>–</td><td>x·min(max(x + 3, 0), 6)/6</td>
 *       <td>0 for x &lt; −3, x/3 + 1/2 for −3 ≤ x ≤ 3, 1 above (PyTorch's hardswish_backward)</td></tr>
 *   <tr><td>SELU</td><td>alpha</td><td>gamma (scale)</td><td>b·(x &gt; 0 ? x : a·(eˣ − 1))</td><td>x &gt; 0 ? b : b·a·eˣ</td></tr>
 * </table>
 *
 * <p>Note that {@code torch.nn.ReLU6}/{@code Hardtanh} pass no gradient at the bounds while {@code torch.clamp} (and
 * ONNX Clip exported from it) does; CLIP follows clamp. The values differ only at x exactly equal to a bound.
 *
 * @param kind the activation
 * @param a    first parameter (see the table), 0 when unused
 * @param b    second parameter (see the table), 0 when unused
 */
public record ActivationFn(Activation kind, float a, float b) {
    public static final ActivationFn IDENTITY = new ActivationFn(Activation.IDENTITY, 0f, 0f);
    public static final ActivationFn RELU = new ActivationFn(Activation.RELU, 0f, 0f);
    /** One shared value per parameterless kind (index = ordinal; null for kinds with parameters). */
    private static final ActivationFn[] PARAMETERLESS = new ActivationFn[Activation.values().length];

    static {
        for (Activation k : Activation.values()) if (k.parameterCount() == 0) PARAMETERLESS[k.ordinal()] = new ActivationFn(k, 0f, 0f);
    }
    /** PyTorch's default SELU alpha (rounded to float). */
    public static final float SELU_ALPHA = 1.6732632423543772f;
    /** PyTorch's default SELU scale (rounded to float). */
    public static final float SELU_GAMMA = 1.0507009873554805f;

    /**
     * Validates the parameters the kind reads and zeroes the others.
     *
     * @throws IllegalArgumentException naming the parameter: null kind, NaN or infinite parameters (CLIP's bounds
     *                                  may be infinite), CLIP with min &gt; max
     */
    public ActivationFn {
        if (kind == null) throw new IllegalArgumentException("kind must not be null (use Activation.IDENTITY)");
        int count = kind.parameterCount();
        if (count < 2) b = 0f;
        if (count < 1) a = 0f;
        switch (kind) {
            case CLIP -> {
                if (Float.isNaN(a)) throw new IllegalArgumentException("CLIP min is NaN");
                if (Float.isNaN(b)) throw new IllegalArgumentException("CLIP max is NaN");
                if (a > b) throw new IllegalArgumentException("CLIP min " + a + " > max " + b);
            }
            case LEAKY_RELU -> finite(kind, "negative slope", a);
            case ELU -> finite(kind, "alpha", a);
            case HARD_SIGMOID -> {
                finite(kind, "alpha", a);
                finite(kind, "beta", b);
            }
            case SELU -> {
                finite(kind, "alpha", a);
                finite(kind, "gamma", b);
            }
            default -> { }
        }
    }

    private static void finite(Activation kind, String name, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(kind + " " + name + " is " + v + ", expected a finite value");
    }

    /**
     * A kind with at most one parameter ({@code alpha}: LEAKY_RELU's negative slope, ELU's alpha; ignored by
     * parameterless kinds) — the one-scalar form of the older API.
     *
     * @throws IllegalArgumentException for kinds that take two parameters (CLIP, HARD_SIGMOID, SELU): use their factories
     */
    public static ActivationFn of(Activation kind, float alpha) {
        if (kind != null && kind.parameterCount() == 0) return PARAMETERLESS[kind.ordinal()];
        if (kind != null && kind.parameterCount() == 2) {
            throw new IllegalArgumentException(kind + " takes two parameters; use ActivationFn." + switch (kind) {
                case CLIP -> "clip(min, max)";
                case HARD_SIGMOID -> "hardSigmoid(alpha, beta)";
                default -> "selu(alpha, gamma)";
            });
        }
        return new ActivationFn(kind, alpha, 0f);
    }

    public static ActivationFn identity() { return IDENTITY; }

    public static ActivationFn relu() { return RELU; }

    /** LeakyReLU with the given negative slope (PyTorch default 0.01). */
    public static ActivationFn leakyRelu(float negativeSlope) { return new ActivationFn(Activation.LEAKY_RELU, negativeSlope, 0f); }

    /** ELU with the given alpha (PyTorch default 1). */
    public static ActivationFn elu(float alpha) { return new ActivationFn(Activation.ELU, alpha, 0f); }

    public static ActivationFn sigmoid() { return new ActivationFn(Activation.SIGMOID, 0f, 0f); }

    public static ActivationFn tanh() { return new ActivationFn(Activation.TANH, 0f, 0f); }

    public static ActivationFn silu() { return new ActivationFn(Activation.SILU, 0f, 0f); }

    public static ActivationFn mish() { return new ActivationFn(Activation.MISH, 0f, 0f); }

    public static ActivationFn softplus() { return new ActivationFn(Activation.SOFTPLUS, 0f, 0f); }

    /** {@code torch.clamp(x, min, max)}; either bound may be infinite (min = −∞ and max = +∞ is the identity). */
    public static ActivationFn clip(float min, float max) { return new ActivationFn(Activation.CLIP, min, max); }

    /** ReLU6 = clip(0, 6) (MobileNet's activation; gradient per {@link #clip}). */
    public static ActivationFn relu6() { return clip(0f, 6f); }

    /** {@code max(0, min(1, alpha·x + beta))}; ONNX defaults are alpha 0.2, beta 0.5. */
    public static ActivationFn hardSigmoid(float alpha, float beta) { return new ActivationFn(Activation.HARD_SIGMOID, alpha, beta); }

    /** PyTorch's {@code nn.Hardsigmoid}: alpha 1/6, beta 1/2. */
    public static ActivationFn hardSigmoid() { return hardSigmoid(1f / 6f, 0.5f); }

    /** PyTorch's {@code nn.Hardswish} (= ONNX HardSwish): x·hardsigmoid(x) with alpha 1/6, beta 1/2. */
    public static ActivationFn hardSwish() { return new ActivationFn(Activation.HARD_SWISH, 0f, 0f); }

    /** SELU with PyTorch's (and ONNX's) alpha 1.6732632… and scale 1.0507009…. */
    public static ActivationFn selu() { return selu(SELU_ALPHA, SELU_GAMMA); }

    /** SELU with the given alpha and scale gamma. */
    public static ActivationFn selu(float alpha, float gamma) { return new ActivationFn(Activation.SELU, alpha, gamma); }

    /** True for IDENTITY (applying it changes nothing). */
    public boolean isIdentity() { return kind == Activation.IDENTITY; }

    /** ONNX-style name with parameters, e.g. {@code Relu}, {@code LeakyRelu(0.01)}, {@code Clip(0,6)}, {@code HardSwish}. */
    @Override
    public String toString() {
        String name = switch (kind) {
            case IDENTITY -> "Identity";
            case RELU -> "Relu";
            case LEAKY_RELU -> "LeakyRelu";
            case ELU -> "Elu";
            case SIGMOID -> "Sigmoid";
            case TANH -> "Tanh";
            case SILU -> "SiLU";
            case MISH -> "Mish";
            case SOFTPLUS -> "Softplus";
            case CLIP -> "Clip";
            case HARD_SIGMOID -> "HardSigmoid";
            case HARD_SWISH -> "HardSwish";
            case SELU -> "Selu";
        };
        return switch (kind.parameterCount()) {
            case 0 -> name;
            case 1 -> name + "(" + num(a) + ")";
            default -> name + "(" + num(a) + "," + num(b) + ")";
        };
    }

    private static String num(float v) {
        if (v == Float.POSITIVE_INFINITY) return "inf";
        if (v == Float.NEGATIVE_INFINITY) return "-inf";
        if (v == (long) v && Math.abs(v) < 1e7) return Long.toString((long) v);
        return Float.toString(v);
    }
}
