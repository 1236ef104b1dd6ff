package tessera.kernels.gemm;

import tessera.kernels.Activation;

/** Scalar float activations with PyTorch semantics, used by the GEMM epilogue for the non-piecewise-linear ones. */
final class ScalarActivation {
    private ScalarActivation() {}

    static float apply(Activation act, float alpha, float x) {
        return switch (act) {
            case IDENTITY -> x;
            case RELU -> x < 0f ? 0f : x;
            case LEAKY_RELU -> x < 0f ? alpha * x : x;
            case ELU -> x > 0f ? x : (float) (alpha * Math.expm1(x));
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case TANH -> (float) Math.tanh(x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case MISH -> (float) (x * Math.tanh(softplus(x)));
            case SOFTPLUS -> (float) softplus(x);
        };
    }

    /** log(1 + e^x) with PyTorch's threshold 20 (returns x above it). */
    static double softplus(double x) { return x > 20 ? x : Math.log1p(Math.exp(x)); }
}
