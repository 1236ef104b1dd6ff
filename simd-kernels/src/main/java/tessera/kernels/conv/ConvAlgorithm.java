package tessera.kernels.conv;

/** Convolution algorithms; {@link #AUTO} lets {@link ConvAlgorithmSelector} choose per shape. */
public enum ConvAlgorithm {
    /** Direct convolution, vectorized over output channels (channel-blocked weights); any parameters. */
    DIRECT,
    /** im2col + GEMM (1×1 stride-1 unpadded convolutions skip im2col); any parameters. */
    IM2COL,
    /** Winograd F(2×2, 3×3): 3×3 kernels, stride 1, dilation 1. */
    WINOGRAD_F2X3,
    /** Winograd F(4×4, 3×3): 3×3 kernels, stride 1, dilation 1; looser numerical error (see {@link F32Winograd}). */
    WINOGRAD_F4X3,
    /** Chosen per shape by {@link ConvAlgorithmSelector}. */
    AUTO
}
