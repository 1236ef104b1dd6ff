package tessera.kernels.pool;

/**
 * Immutable descriptor of a 2-d pooling window over NCHW planes.
 *
 * <p>Window tap {@code (r, s)} of output {@code (p, q)} reads input row {@code p·strideH − padTop + r·dilationH} and
 * column {@code q·strideW − padLeft + s·dilationW}, {@code 0 ≤ r < kernelH}, {@code 0 ≤ s < kernelW}. Taps outside
 * the input are padding: ignored by MAX and L2, counted as zeros by AVG when {@code countIncludePad}. Padding may be
 * asymmetric (ONNX); PyTorch's symmetric {@code padding=p} is {@code padTop = padBottom = p}, {@code padLeft =
 * padRight = p}.
 *
 * <p>Output sizes follow PyTorch's {@code pooling_output_shape_pad_lr}: {@code floor} (or {@code ceil} in ceil mode)
 * of {@code (in + padBefore + padAfter − dilation·(kernel − 1) − 1) / stride + 1}, and in ceil mode the last window
 * must start inside the input or the leading padding.
 *
 * <p>The constructor rejects non-positive kernel, stride or dilation, negative padding, and padding larger than half
 * of the effective kernel {@code (kernel − 1)·dilation + 1} (PyTorch's rule, applied to each side);
 * {@link #validate(int, int)} adds the checks that need the input size.
 */
public record PoolSpec(PoolType type, int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
        int padBottom, int padRight, int dilationH, int dilationW, boolean ceilMode, boolean countIncludePad) {

    public PoolSpec {
        if (type == null) throw new IllegalArgumentException("pool type must not be null (MAX, AVG or L2)");
        if (kernelH <= 0 || kernelW <= 0) {
            throw new IllegalArgumentException("kernel size must be > 0, got kernelH=" + kernelH + ", kernelW=" + kernelW);
        }
        if (strideH <= 0 || strideW <= 0) {
            throw new IllegalArgumentException("stride must be > 0, got strideH=" + strideH + ", strideW=" + strideW);
        }
        if (dilationH <= 0 || dilationW <= 0) {
            throw new IllegalArgumentException("dilation must be > 0, got dilationH=" + dilationH + ", dilationW=" + dilationW);
        }
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got padTop=" + padTop + ", padLeft=" + padLeft
                    + ", padBottom=" + padBottom + ", padRight=" + padRight);
        }
        long effH = (long) (kernelH - 1) * dilationH + 1;
        long effW = (long) (kernelW - 1) * dilationW + 1;
        if (padTop > effH / 2 || padBottom > effH / 2) {
            throw new IllegalArgumentException("padTop=" + padTop + ", padBottom=" + padBottom
                    + " must be at most half of the effective kernel height (kernelH=" + kernelH + ", dilationH=" + dilationH
                    + ": (kernelH-1)*dilationH+1 = " + effH + ", half = " + effH / 2 + ")");
        }
        if (padLeft > effW / 2 || padRight > effW / 2) {
            throw new IllegalArgumentException("padLeft=" + padLeft + ", padRight=" + padRight
                    + " must be at most half of the effective kernel width (kernelW=" + kernelW + ", dilationW=" + dilationW
                    + ": (kernelW-1)*dilationW+1 = " + effW + ", half = " + effW / 2 + ")");
        }
    }

    /** Square window, equal strides, symmetric padding, no dilation, floor mode, {@code countIncludePad=true}
     *  (PyTorch's defaults for {@code max_pool2d}/{@code avg_pool2d}). */
    public static PoolSpec of(PoolType type, int kernel, int stride, int pad) {
        return new PoolSpec(type, kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, false, true);
    }

    /** PyTorch-style symmetric parameters (pair order: height, width). */
    public static PoolSpec of(PoolType type, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
            int dilationH, int dilationW, boolean ceilMode, boolean countIncludePad) {
        return new PoolSpec(type, kernelH, kernelW, strideH, strideW, padH, padW, padH, padW, dilationH, dilationW,
                ceilMode, countIncludePad);
    }

    /** Rows spanned by one window: {@code (kernelH − 1)·dilationH + 1}. */
    public int effectiveKernelH() { return (kernelH - 1) * dilationH + 1; }

    /** Columns spanned by one window: {@code (kernelW − 1)·dilationW + 1}. */
    public int effectiveKernelW() { return (kernelW - 1) * dilationW + 1; }

    /** Output height for input height {@code inH} (PyTorch's formula; see the class doc). */
    public int outH(int inH) {
        return outSize("inH", inH, kernelH, strideH, padTop, padBottom, dilationH);
    }

    /** Output width for input width {@code inW} (PyTorch's formula; see the class doc). */
    public int outW(int inW) {
        return outSize("inW", inW, kernelW, strideW, padLeft, padRight, dilationW);
    }

    private int outSize(String name, int in, int kernel, int stride, int padBefore, int padAfter, int dilation) {
        if (in <= 0) throw new IllegalArgumentException(name + "=" + in + " must be > 0");
        long numerator = (long) in + padBefore + padAfter - (long) dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long out = Math.floorDiv(numerator, stride) + 1;
        if (ceilMode && (out - 1) * stride >= (long) in + padBefore) out--;
        if (out > Integer.MAX_VALUE) throw new IllegalArgumentException(name + "=" + in + " gives an output size " + out + " beyond int range");
        return (int) out;
    }

    /**
     * Checks this window against an input of {@code inH × inW}: the window must fit in the padded input and the
     * output must be at least 1×1. Throws {@link IllegalArgumentException} naming the sizes otherwise.
     */
    public void validate(int inH, int inW) {
        if (inH <= 0 || inW <= 0) {
            throw new IllegalArgumentException("input size must be > 0, got inH=" + inH + ", inW=" + inW);
        }
        long paddedH = (long) inH + padTop + padBottom;
        long paddedW = (long) inW + padLeft + padRight;
        if (effectiveKernelH() > paddedH || effectiveKernelW() > paddedW) {
            throw new IllegalArgumentException("pooling window " + effectiveKernelH() + "x" + effectiveKernelW()
                    + " (kernel " + kernelH + "x" + kernelW + ", dilation " + dilationH + "x" + dilationW
                    + ") is larger than the padded input " + paddedH + "x" + paddedW + " (input " + inH + "x" + inW
                    + ", padding top/left/bottom/right " + padTop + "/" + padLeft + "/" + padBottom + "/" + padRight + ")");
        }
        int oh = outH(inH), ow = outW(inW);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("input " + inH + "x" + inW + " gives output " + oh + "x" + ow
                    + " for " + this + ": output size is too small");
        }
        checkWindowsHitInput("row", "kernelH", kernelH, strideH, padTop, dilationH, inH, oh);
        checkWindowsHitInput("column", "kernelW", kernelW, strideW, padLeft, dilationW, inW, ow);
    }

    /** A dilated window that starts in the padding can step over the whole input; such a window has no value. */
    private static void checkWindowsHitInput(String axis, String kernelName, int kernel, int stride, int padBefore,
            int dilation, int in, int out) {
        for (int o = 0; o < out; o++) {
            long start = (long) o * stride - padBefore;
            long first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
            if (first >= kernel || start + first * dilation >= in) {
                throw new IllegalArgumentException("pooling window " + o + " along the " + axis + "s (" + kernelName + "="
                        + kernel + ", stride " + stride + ", leading pad " + padBefore + ", dilation " + dilation
                        + ") covers no input " + axis + " of " + in + ": every window must overlap the input");
            }
        }
    }
}
