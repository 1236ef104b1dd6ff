package tessera.kernels;

import tessera.memory.Tensor;

/**
 * Fused inference post-ops applied to a convolution or GEMM output while it is still in registers or cache:
 * {@code y = act(conv(x) + bias + residual)}, in that order (bias is passed separately to the kernel; the residual,
 * when non-null, has the output's shape). Immutable.
 *
 * @param activation activation applied last, with its parameters
 * @param residual   tensor added before the activation, or null
 */
public record PostOps(ActivationFn activation, Tensor residual) {
    public static final PostOps NONE = new PostOps(ActivationFn.IDENTITY, null);
    public static final PostOps RELU = new PostOps(ActivationFn.RELU, null);

    public PostOps {
        if (activation == null) throw new IllegalArgumentException("activation must not be null (use ActivationFn.IDENTITY)");
    }

    /** The one-scalar form ({@code alpha}: LEAKY_RELU's slope, ELU's alpha), with a residual (null = none). */
    public PostOps(Activation activation, float alpha, Tensor residual) {
        this(activation == null ? null : ActivationFn.of(activation, alpha), residual);
    }

    public static PostOps of(ActivationFn activation) { return new PostOps(activation, null); }

    public static PostOps of(Activation activation, float alpha) { return new PostOps(activation, alpha, null); }

    public PostOps withResidual(Tensor r) { return new PostOps(activation, r); }

    public boolean isNone() { return activation.isIdentity() && residual == null; }
}
