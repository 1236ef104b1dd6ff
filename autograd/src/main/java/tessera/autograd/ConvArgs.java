package tessera.autograd;

/**
 * Geometry of a 2-D convolution or transposed convolution, independent of tensor shapes.
 * Padding is (top, left, bottom, right); {@code outputPadH/W} apply to transposed convolution only.
 */
public record ConvArgs(int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                       int dilationH, int dilationW, int groups, int outputPadH, int outputPadW) {

    /** Square kernel geometry with symmetric padding, as {@code torch.nn.Conv2d(stride, padding, dilation, groups)}. */
    public static ConvArgs of(int stride, int padding, int dilation, int groups) {
        return new ConvArgs(stride, stride, padding, padding, padding, padding, dilation, dilation, groups, 0, 0);
    }

    public static ConvArgs of(int stride, int padding) { return of(stride, padding, 1, 1); }

    public ConvArgs withOutputPadding(int h, int w) {
        return new ConvArgs(strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, h, w);
    }
}
