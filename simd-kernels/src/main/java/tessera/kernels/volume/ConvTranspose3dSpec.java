package tessera.kernels.volume;

import java.util.Arrays;

/**
 * Immutable descriptor of a 3-D transposed convolution over NCDHW: x [batch, inChannels, D, H, W],
 * w [inChannels, outChannels/groups, kD, kH, kW], y [batch, outChannels, oD, oH, oW]. Input element i scatters into
 * output {@code i·stride − padBegin + t·dilation} for every tap t; per axis
 * {@code out = stride·(in − 1) + outputPadding + dilation·(kernel − 1) + 1 − padBegin − padEnd}. {@code pads} is
 * ONNX's order {@code [dBegin, hBegin, wBegin, dEnd, hEnd, wEnd]}. The constructor copies the arrays and rejects
 * wrong lengths, non-positive sizes, negative pads or output padding and an empty output.
 */
public record ConvTranspose3dSpec(int batch, int inChannels, int outChannels, int groups, int[] in, int[] kernel, int[] strides,
        int[] pads, int[] outputPadding, int[] dilations) {

    public ConvTranspose3dSpec {
        if (batch < 1 || inChannels < 1 || outChannels < 1 || groups < 1) {
            throw new IllegalArgumentException("batch=" + batch + ", inChannels=" + inChannels + ", outChannels=" + outChannels
                    + ", groups=" + groups + " must all be >= 1");
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("inChannels=" + inChannels + " and outChannels=" + outChannels + " must be divisible by groups=" + groups);
        }
        in = Checks3d.ints("input size", in, 3, 1);
        kernel = Checks3d.ints("kernel", kernel, 3, 1);
        strides = Checks3d.ints("strides", strides, 3, 1);
        pads = Checks3d.ints("pads", pads, 6, 0);
        outputPadding = Checks3d.ints("output padding", outputPadding, 3, 0);
        dilations = Checks3d.ints("dilations", dilations, 3, 1);
        for (int a = 0; a < 3; a++) {
            long o = (long) strides[a] * (in[a] - 1) + outputPadding[a] + (long) dilations[a] * (kernel[a] - 1) + 1 - pads[a] - pads[a + 3];
            if (o < 1) {
                throw new IllegalArgumentException("output size along axis " + a + " is " + o + " (input " + Arrays.toString(in) + ", kernel "
                        + Arrays.toString(kernel) + ", strides " + Arrays.toString(strides) + ", pads " + Arrays.toString(pads) + "): must be >= 1");
            }
        }
    }

    /** Output size along axis a (0 = D, 1 = H, 2 = W). */
    public int out(int a) {
        return strides[a] * (in[a] - 1) + outputPadding[a] + dilations[a] * (kernel[a] - 1) + 1 - pads[a] - pads[a + 3];
    }

    /** Output sizes [oD, oH, oW]. */
    public int[] out() { return new int[] {out(0), out(1), out(2)}; }

    @Override public int[] in() { return in.clone(); }
    @Override public int[] kernel() { return kernel.clone(); }
    @Override public int[] strides() { return strides.clone(); }
    @Override public int[] pads() { return pads.clone(); }
    @Override public int[] outputPadding() { return outputPadding.clone(); }
    @Override public int[] dilations() { return dilations.clone(); }

    /** The output volume, scattered into from the input grid. */
    VolumeGeom geom() { return new VolumeGeom(out(), in, kernel, strides, Arrays.copyOf(pads, 3), dilations); }

    @Override
    public String toString() {
        return "ConvTranspose3dSpec[batch=" + batch + ", in=" + inChannels + "x" + Arrays.toString(in) + ", out=" + outChannels + "x"
                + Arrays.toString(out()) + ", kernel=" + Arrays.toString(kernel) + ", strides=" + Arrays.toString(strides) + ", pads="
                + Arrays.toString(pads) + ", outputPadding=" + Arrays.toString(outputPadding) + ", dilations=" + Arrays.toString(dilations)
                + ", groups=" + groups + "]";
    }
}
