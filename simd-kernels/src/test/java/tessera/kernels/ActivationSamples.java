package tessera.kernels;

/** Test parameters for every activation kind: a few representative settings per kind, picked by a seed. */
public final class ActivationSamples {
    private ActivationSamples() {}

    /** A valid {@link ActivationFn} of {@code kind}; {@code seed} picks among representative parameters. */
    public static ActivationFn sample(Activation kind, int seed) {
        int k = Math.floorMod(seed, 4);
        return switch (kind) {
            case LEAKY_RELU -> ActivationFn.leakyRelu(new float[] {0.01f, 0.1f, 0.3f, -0.2f}[k]);
            case ELU -> ActivationFn.elu(new float[] {1f, 0.7f, 1.3f, 0.2f}[k]);
            case CLIP -> switch (k) {
                case 0 -> ActivationFn.relu6();
                case 1 -> ActivationFn.clip(-0.5f, 0.25f);
                case 2 -> ActivationFn.clip(Float.NEGATIVE_INFINITY, 0.5f);
                default -> ActivationFn.clip(-1f, Float.POSITIVE_INFINITY);
            };
            case HARD_SIGMOID -> switch (k) {
                case 0 -> ActivationFn.hardSigmoid();
                case 1 -> ActivationFn.hardSigmoid(0.2f, 0.5f);
                case 2 -> ActivationFn.hardSigmoid(0.7f, -0.1f);
                default -> ActivationFn.hardSigmoid(-0.3f, 0.6f);
            };
            case SELU -> k % 2 == 0 ? ActivationFn.selu() : ActivationFn.selu(1.3f, 0.8f);
            default -> ActivationFn.of(kind, 0f);
        };
    }

    /** Points where {@code fn}'s derivative jumps (finite-difference checks keep away from them). */
    public static double[] kinks(ActivationFn fn) {
        return switch (fn.kind()) {
            case RELU, LEAKY_RELU, ELU, SELU -> new double[] {0};
            case CLIP -> new double[] {fn.a(), fn.b()};
            case HARD_SIGMOID -> new double[] {-fn.b() / (double) fn.a(), (1 - fn.b()) / (double) fn.a()};
            case HARD_SWISH -> new double[] {-3, 3};
            default -> new double[0];
        };
    }
}
