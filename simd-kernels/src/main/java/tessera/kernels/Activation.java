package tessera.kernels;

/**
 * Pointwise activations shared by the elementwise kernels, fused convolution/GEMM post-ops and layers.
 * {@code alpha} is the one scalar parameter some of them take (negative slope of LEAKY_RELU, alpha of ELU);
 * semantics as PyTorch's {@code torch.nn} modules.
 */
public enum Activation {
    IDENTITY, RELU, LEAKY_RELU, ELU, SIGMOID, TANH, SILU, MISH, SOFTPLUS
}
