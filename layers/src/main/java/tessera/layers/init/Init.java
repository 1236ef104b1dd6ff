package tessera.layers.init;

import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Weight initializers with the formulas of {@code torch.nn.init}. Random fills are seeded: the same seed and shape
 * give the same values (drawn through {@link RandomFill} in row-major order).
 *
 * <p>Fans follow PyTorch's {@code _calculate_fan_in_and_fan_out}: for a weight of shape [out, in, k1, k2, ...]
 * the receptive field is k1·k2·…, {@code fan_in = in·receptive} and {@code fan_out = out·receptive}. So a
 * convolution weight [K, C/g, R, S] has fan_in = (C/g)·R·S and fan_out = K·R·S, and a linear weight [out, in] has
 * fan_in = in, fan_out = out. Weights need at least 2 dimensions.
 *
 * <p>Random initializers need an F32 or F64 tensor (any strides); {@link #zeros}, {@link #ones} and
 * {@link #constant} take any dtype. Every method returns its argument for chaining. Empty tensors are left as they are.
 */
public final class Init {
    private Init() {}

    /** The nonlinearity that follows a layer, for {@link #gain}. */
    public enum Nonlinearity { LINEAR, CONV, SIGMOID, TANH, RELU, LEAKY_RELU, SELU }

    /** Which fan the He/Kaiming variance preserves: forward activations (FAN_IN) or backward gradients (FAN_OUT). */
    public enum FanMode { FAN_IN, FAN_OUT }

    /** Fan-in and fan-out of a weight shape. */
    public record Fans(long fanIn, long fanOut) {}

    /** PyTorch's default negative slope of leaky ReLU when none is given. */
    public static final double DEFAULT_LEAKY_SLOPE = 0.01;

    // ---------------------------------------------------------------- fans and gains

    /**
     * Fans of a weight of {@code shape} ([out, in, receptive...], see class doc); rank must be at least 2.
     */
    public static Fans fans(int... shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("fans: weight shape " + Arrays.toString(shape) + " has rank " + shape.length
                    + ", expected at least 2 dimensions ([out, in] or [out, in, k1, k2, ...])");
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("fans: dimension " + i + " of shape " + Arrays.toString(shape) + " is negative");
        }
        try {
            long receptive = 1;
            for (int i = 2; i < shape.length; i++) receptive = Math.multiplyExact(receptive, shape[i]);
            return new Fans(Math.multiplyExact((long) shape[1], receptive), Math.multiplyExact((long) shape[0], receptive));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("fans: shape " + Arrays.toString(shape) + " has more elements than a long holds");
        }
    }

    /**
     * The recommended gain of {@code torch.nn.init.calculate_gain}: 1 for LINEAR/CONV/SIGMOID, 5/3 for TANH, √2 for
     * RELU, √(2/(1+a²)) for LEAKY_RELU with negative slope {@code a = param}, 3/4 for SELU. {@code param} is ignored
     * except for LEAKY_RELU.
     */
    public static double gain(Nonlinearity nonlinearity, double param) {
        return switch (nonlinearity) {
            case LINEAR, CONV, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3.0;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> {
                if (!Double.isFinite(param)) throw new IllegalArgumentException("gain: leaky ReLU negative slope must be finite, got " + param);
                yield Math.sqrt(2.0 / (1.0 + param * param));
            }
            case SELU -> 0.75;
        };
    }

    /** {@link #gain(Nonlinearity, double)} with leaky ReLU's default slope 0.01. */
    public static double gain(Nonlinearity nonlinearity) { return gain(nonlinearity, DEFAULT_LEAKY_SLOPE); }

    // ---------------------------------------------------------------- LeCun

    /** LeCun normal: N(0, 1/fan_in). */
    public static Tensor lecunNormal(Tensor w, long seed) {
        if (empty(w)) return w;
        return normal(w, seed, Math.sqrt(1.0 / fan(w, FanMode.FAN_IN, "lecunNormal")));
    }

    /** LeCun uniform: U(±√(3/fan_in)) (variance 1/fan_in). */
    public static Tensor lecunUniform(Tensor w, long seed) {
        if (empty(w)) return w;
        return uniform(w, seed, Math.sqrt(3.0 / fan(w, FanMode.FAN_IN, "lecunUniform")));
    }

    // ---------------------------------------------------------------- Xavier / Glorot

    /** Xavier/Glorot uniform: U(±gain·√(6/(fan_in+fan_out))). */
    public static Tensor xavierUniform(Tensor w, double gain, long seed) {
        if (empty(w)) return w;
        checkGain(gain, "xavierUniform");
        return uniform(w, seed, gain * Math.sqrt(6.0 / fanSum(w, "xavierUniform")));
    }

    /** Xavier/Glorot uniform with gain 1. */
    public static Tensor xavierUniform(Tensor w, long seed) { return xavierUniform(w, 1.0, seed); }

    /** Xavier/Glorot normal: N(0, gain²·2/(fan_in+fan_out)). */
    public static Tensor xavierNormal(Tensor w, double gain, long seed) {
        if (empty(w)) return w;
        checkGain(gain, "xavierNormal");
        return normal(w, seed, gain * Math.sqrt(2.0 / fanSum(w, "xavierNormal")));
    }

    /** Xavier/Glorot normal with gain 1. */
    public static Tensor xavierNormal(Tensor w, long seed) { return xavierNormal(w, 1.0, seed); }

    // ---------------------------------------------------------------- He / Kaiming

    /**
     * He/Kaiming uniform ({@code torch.nn.init.kaiming_uniform_}): U(±gain·√(3/fan)), gain from
     * {@code nonlinearity} (RELU or LEAKY_RELU with negative slope {@code a}), fan chosen by {@code mode}.
     */
    public static Tensor kaimingUniform(Tensor w, double a, FanMode mode, Nonlinearity nonlinearity, long seed) {
        if (empty(w)) return w;
        double std = gain(nonlinearity, a) / Math.sqrt(fan(w, mode, "kaimingUniform"));
        return uniform(w, seed, Math.sqrt(3.0) * std);
    }

    /** He/Kaiming normal ({@code torch.nn.init.kaiming_normal_}): N(0, gain²/fan). */
    public static Tensor kaimingNormal(Tensor w, double a, FanMode mode, Nonlinearity nonlinearity, long seed) {
        if (empty(w)) return w;
        return normal(w, seed, gain(nonlinearity, a) / Math.sqrt(fan(w, mode, "kaimingNormal")));
    }

    /** He uniform for ReLU: U(±√(6/fan)). */
    public static Tensor heUniform(Tensor w, FanMode mode, long seed) {
        return kaimingUniform(w, 0, mode, Nonlinearity.RELU, seed);
    }

    /** He normal for ReLU: N(0, 2/fan). */
    public static Tensor heNormal(Tensor w, FanMode mode, long seed) {
        return kaimingNormal(w, 0, mode, Nonlinearity.RELU, seed);
    }

    // ---------------------------------------------------------------- constants

    /** Fills with 0 (any dtype). */
    public static Tensor zeros(Tensor t) { return constant(t, 0); }

    /** Fills with 1 (any dtype). */
    public static Tensor ones(Tensor t) { return constant(t, 1); }

    /** Fills with {@code value} (converted to the dtype). */
    public static Tensor constant(Tensor t, double value) {
        t.fill(value);
        return t;
    }

    // ---------------------------------------------------------------- PyTorch's Conv/Linear defaults

    /**
     * PyTorch's default weight init of Conv*d and Linear: {@code kaiming_uniform_(w, a=√5)}, which is
     * U(±1/√fan_in).
     */
    public static Tensor torchDefaultWeight(Tensor w, long seed) {
        return kaimingUniform(w, Math.sqrt(5.0), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, seed);
    }

    /**
     * PyTorch's default bias init of Conv*d and Linear: U(±1/√fan_in), fan_in computed from the layer's
     * {@code weightShape} (for ConvTranspose2d's [Cin, Cout/g, R, S] that is (Cout/g)·R·S, as in PyTorch);
     * zeros when fan_in is 0.
     */
    public static Tensor torchDefaultBias(Tensor bias, int[] weightShape, long seed) {
        if (empty(bias)) return bias;
        checkFloat(bias, "torchDefaultBias");
        long fanIn = fans(weightShape).fanIn();
        if (fanIn == 0) return zeros(bias);
        return uniform(bias, seed, 1.0 / Math.sqrt(fanIn));
    }

    // ---------------------------------------------------------------- helpers

    private static boolean empty(Tensor t) { return t.numel() == 0; }

    private static long fan(Tensor w, FanMode mode, String who) {
        checkFloat(w, who);
        Fans f = fans(w.shape());
        return mode == FanMode.FAN_IN ? f.fanIn() : f.fanOut();
    }

    private static long fanSum(Tensor w, String who) {
        checkFloat(w, who);
        Fans f = fans(w.shape());
        return f.fanIn() + f.fanOut();
    }

    private static void checkFloat(Tensor t, String who) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
            throw new IllegalArgumentException(who + ": tensor " + t + " has dtype " + t.dtype() + ", expected F32 or F64");
        }
    }

    private static void checkGain(double gain, String who) {
        if (!(gain > 0) || !Double.isFinite(gain)) throw new IllegalArgumentException(who + ": gain must be finite and > 0, got " + gain);
    }

    private static Tensor uniform(Tensor w, long seed, double bound) {
        RandomFill.uniform(w, seed, -bound, bound);
        return w;
    }

    private static Tensor normal(Tensor w, long seed, double std) {
        RandomFill.normal(w, seed, 0, std);
        return w;
    }
}
