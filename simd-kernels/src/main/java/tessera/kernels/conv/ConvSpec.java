package tessera.kernels.conv;

/**
 * Immutable description of a 2-D convolution with PyTorch/ONNX semantics (cross-correlation):
 * input {@code x [N, C, H, W]}, weights {@code w [K, C/groups, R, S]}, output {@code y [N, K, P, Q]} with
 * {@code P = floor((H + padTop + padBottom - dilationH·(R-1) - 1) / strideH) + 1}, likewise {@code Q}.
 * All sizes in elements; padding may be asymmetric. The constructor validates and throws
 * {@link IllegalArgumentException} naming the offending parameter.
 */
public record ConvSpec(int batch, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW,
                       int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                       int dilationH, int dilationW, int groups) {

    public ConvSpec {
        positive("batch", batch);
        positive("inChannels", inChannels);
        positive("inH", inH);
        positive("inW", inW);
        positive("outChannels", outChannels);
        positive("kernelH", kernelH);
        positive("kernelW", kernelW);
        positive("strideH", strideH);
        positive("strideW", strideW);
        positive("dilationH", dilationH);
        positive("dilationW", dilationW);
        positive("groups", groups);
        nonNegative("padTop", padTop);
        nonNegative("padLeft", padLeft);
        nonNegative("padBottom", padBottom);
        nonNegative("padRight", padRight);
        if (inChannels % groups != 0)
            throw new IllegalArgumentException("inChannels=" + inChannels + " is not divisible by groups=" + groups);
        if (outChannels % groups != 0)
            throw new IllegalArgumentException("outChannels=" + outChannels + " is not divisible by groups=" + groups);
        long extH = (long) dilationH * (kernelH - 1) + 1, extW = (long) dilationW * (kernelW - 1) + 1;
        long paddedH = (long) inH + padTop + padBottom, paddedW = (long) inW + padLeft + padRight;
        if (extH > paddedH)
            throw new IllegalArgumentException("kernelH=" + kernelH + " with dilationH=" + dilationH + " spans " + extH
                    + " rows, larger than the padded input height inH+padTop+padBottom=" + paddedH);
        if (extW > paddedW)
            throw new IllegalArgumentException("kernelW=" + kernelW + " with dilationW=" + dilationW + " spans " + extW
                    + " columns, larger than the padded input width inW+padLeft+padRight=" + paddedW);
        long elems = (long) batch * Math.max(inChannels, outChannels) * paddedH * paddedW;
        if (elems > Integer.MAX_VALUE * 4L || (long) outChannels * (inChannels / groups) * kernelH * kernelW > Integer.MAX_VALUE)
            throw new IllegalArgumentException("convolution too large: batch=" + batch + " inChannels=" + inChannels
                    + " outChannels=" + outChannels + " padded input " + paddedH + "x" + paddedW);
    }

    /** Convenience: square kernel, symmetric padding, dilation 1, groups 1. */
    public static ConvSpec of(int batch, int inChannels, int inHW, int outChannels, int kernel, int stride, int pad) {
        return new ConvSpec(batch, inChannels, inHW, inHW, outChannels, kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, 1);
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + "=" + v + " must be >= 1");
    }

    private static void nonNegative(String name, int v) {
        if (v < 0) throw new IllegalArgumentException(name + "=" + v + " must be >= 0");
    }

    /** Output height P. */
    public int outH() { return (inH + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1; }

    /** Output width Q. */
    public int outW() { return (inW + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1; }

    /** Direct-convolution floating-point operations: 2·N·K·(C/g)·R·S·P·Q. */
    public long flops() {
        return 2L * batch * outChannels * (inChannels / groups) * kernelH * kernelW * outH() * outW();
    }

    /** The same convolution with another batch size. */
    public ConvSpec withBatch(int n) {
        return new ConvSpec(n, inChannels, inH, inW, outChannels, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups);
    }

    /** Input shape {@code [N, C, H, W]}. */
    public int[] inputShape() { return new int[] {batch, inChannels, inH, inW}; }

    /** Weight shape {@code [K, C/g, R, S]}. */
    public int[] weightShape() { return new int[] {outChannels, inChannels / groups, kernelH, kernelW}; }

    /** Output shape {@code [N, K, P, Q]}. */
    public int[] outputShape() { return new int[] {batch, outChannels, outH(), outW()}; }

    /**
     * The kernels' geometry, one instance per distinct spec (autograd makes a new spec per call and the kernels ask
     * for its geometry in every direction: a record per call was 20 of a training step's heap objects).
     */
    ConvGeom geom() {
        ConvGeom g = GEOMS.get(this);
        if (g != null) return g;
        if (GEOMS.size() >= MAX_CACHED) GEOMS.clear();
        g = new ConvGeom(batch, inChannels, inH, inW, outChannels, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, dilationH, dilationW, groups, outH(), outW());
        GEOMS.put(this, g);
        return g;
    }

    private static final int MAX_CACHED = 4096;
    private static final java.util.concurrent.ConcurrentHashMap<ConvSpec, ConvGeom> GEOMS = new java.util.concurrent.ConcurrentHashMap<>();
}
