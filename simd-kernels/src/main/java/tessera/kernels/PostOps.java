package tessera.kernels;

import tessera.memory.Tensor;

/**
 * Fused inference post-ops applied to a convolution or GEMM output while it is still in registers or cache:
 * {@code y = act(conv(x) + bias + residual)}, in that order (bias is passed separately to the kernel; the residual,
 * when non-null, has the output's shape). Immutable.
 *
 * @param activation activation applied last
 * @param alpha      the activation's scalar parameter (see {@link Activation})
 * @param residual   tensor added before the activation, or null
 */
public record PostOps(Activation activation, float alpha, Tensor residual) {
    public static final PostOps NONE = new PostOps(Activation.IDENTITY, 0f, null);
    public static final PostOps RELU = new PostOps(Activation.RELU, 0f, null);

    public PostOps {
        if (activation == null) throw new IllegalArgumentException("activation must not be null (use IDENTITY)");
    }

    public static PostOps of(Activation activation, float alpha) { return new PostOps(activation, alpha, null); }

    public PostOps withResidual(Tensor r) { return new PostOps(activation, alpha, r); }

    public boolean isNone() { return activation == Activation.IDENTITY && residual == null; }
}
