package tessera.kernels;

/**
 * The kinds of pointwise activation shared by the elementwise kernels, fused convolution/GEMM epilogues, autograd
 * and layers. A kind together with its (at most two) scalar parameters is an {@link ActivationFn}; its javadoc
 * lists each kind's formula, parameters and derivative convention (PyTorch's).
 */
public enum Activation {
    IDENTITY, RELU, LEAKY_RELU, ELU, SIGMOID, TANH, SILU, MISH, SOFTPLUS,
    /** {@code min(max(x, a), b)}: ONNX Clip, {@code torch.clamp}; ReLU6 is CLIP(0, 6). */
    CLIP,
    /** {@code max(0, min(1, a·x + b))}: ONNX HardSigmoid (a = alpha, b = beta). */
    HARD_SIGMOID,
    /** {@code x·relu6(x + 3)/6}: PyTorch Hardswish, ONNX HardSwish. */
    HARD_SWISH,
    /** {@code b·(x > 0 ? x : a·(eˣ − 1))}: SELU (a = alpha, b = gamma/scale). */
    SELU;

    /** Number of scalar parameters this kind reads from an {@link ActivationFn} (0, 1 or 2). */
    public int parameterCount() {
        return switch (this) {
            case LEAKY_RELU, ELU -> 1;
            case CLIP, HARD_SIGMOID, SELU -> 2;
            default -> 0;
        };
    }
}
