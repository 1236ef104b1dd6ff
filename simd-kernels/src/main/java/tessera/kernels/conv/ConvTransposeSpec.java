package tessera.kernels.conv;

/**
 * Immutable 2-D transposed convolution description, PyTorch {@code ConvTranspose2d} semantics: input
 * {@code x [N, Cin, H, W]}, weights {@code w [Cin, Cout/groups, R, S]}, output {@code y [N, Cout, OH, OW]} with
 * {@code OH = (H−1)·strideH − padTop − padBottom + dilationH·(R−1) + outputPadH + 1}, likewise OW. It is the adjoint
 * (input gradient) of the {@link ConvSpec} convolution {@code Cout → Cin} with the same kernel, stride, padding,
 * dilation and groups. {@code outputPad} must be smaller than the stride or the dilation of its axis (as PyTorch).
 */
public record ConvTransposeSpec(int batch, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW,
                                int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                                int outputPadH, int outputPadW, int dilationH, int dilationW, int groups) {

    public ConvTransposeSpec {
        check("batch", batch, 1);
        check("inChannels", inChannels, 1);
        check("inH", inH, 1);
        check("inW", inW, 1);
        check("outChannels", outChannels, 1);
        check("kernelH", kernelH, 1);
        check("kernelW", kernelW, 1);
        check("strideH", strideH, 1);
        check("strideW", strideW, 1);
        check("dilationH", dilationH, 1);
        check("dilationW", dilationW, 1);
        check("groups", groups, 1);
        check("padTop", padTop, 0);
        check("padLeft", padLeft, 0);
        check("padBottom", padBottom, 0);
        check("padRight", padRight, 0);
        check("outputPadH", outputPadH, 0);
        check("outputPadW", outputPadW, 0);
        if (inChannels % groups != 0)
            throw new IllegalArgumentException("inChannels=" + inChannels + " is not divisible by groups=" + groups);
        if (outChannels % groups != 0)
            throw new IllegalArgumentException("outChannels=" + outChannels + " is not divisible by groups=" + groups);
        if (outputPadH >= strideH && outputPadH >= dilationH)
            throw new IllegalArgumentException("outputPadH=" + outputPadH + " must be smaller than strideH=" + strideH
                    + " or dilationH=" + dilationH);
        if (outputPadW >= strideW && outputPadW >= dilationW)
            throw new IllegalArgumentException("outputPadW=" + outputPadW + " must be smaller than strideW=" + strideW
                    + " or dilationW=" + dilationW);
        long oh = (long) (inH - 1) * strideH - padTop - padBottom + (long) dilationH * (kernelH - 1) + outputPadH + 1;
        long ow = (long) (inW - 1) * strideW - padLeft - padRight + (long) dilationW * (kernelW - 1) + outputPadW + 1;
        if (oh < 1 || ow < 1)
            throw new IllegalArgumentException("padding padTop=" + padTop + " padBottom=" + padBottom + " padLeft=" + padLeft
                    + " padRight=" + padRight + " leaves an empty output " + oh + "x" + ow + " for input " + inH + "x" + inW);
        if ((long) batch * Math.max(inChannels, outChannels) * Math.max(oh * ow, (long) inH * inW) > Integer.MAX_VALUE * 4L)
            throw new IllegalArgumentException("transposed convolution too large: batch=" + batch + " output " + oh + "x" + ow);
    }

    private static void check(String name, int v, int min) {
        if (v < min) throw new IllegalArgumentException(name + "=" + v + " must be >= " + min);
    }

    /** Output height OH. */
    public int outH() { return (inH - 1) * strideH - padTop - padBottom + dilationH * (kernelH - 1) + outputPadH + 1; }

    /** Output width OW. */
    public int outW() { return (inW - 1) * strideW - padLeft - padRight + dilationW * (kernelW - 1) + outputPadW + 1; }

    public int[] inputShape() { return new int[] {batch, inChannels, inH, inW}; }

    /** Weight shape {@code [Cin, Cout/g, R, S]}. */
    public int[] weightShape() { return new int[] {inChannels, outChannels / groups, kernelH, kernelW}; }

    public int[] outputShape() { return new int[] {batch, outChannels, outH(), outW()}; }

    /** Floating-point operations: 2·N·Cin·(Cout/g)·R·S·H·W. */
    public long flops() { return 2L * batch * inChannels * (outChannels / groups) * kernelH * kernelW * inH * inW; }

    /** Geometry of the forward convolution whose input gradient this transposed convolution is (input = this output). */
    ConvGeom adjointGeom() {
        return new ConvGeom(batch, outChannels, outH(), outW(), inChannels, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, dilationH, dilationW, groups, inH, inW);
    }
}
