package tessera.kernels.volume;

import java.util.Arrays;

/**
 * Immutable descriptor of a 3-D convolution (cross-correlation) over NCDHW: x [batch, inChannels, D, H, W],
 * w [outChannels, inChannels/groups, kD, kH, kW], y [batch, outChannels, oD, oH, oW]. Per axis a (D, H, W):
 * {@code out = (in + padBegin + padEnd − dilation·(kernel − 1) − 1) / stride + 1} (floor); {@code pads} is ONNX's
 * order {@code [dBegin, hBegin, wBegin, dEnd, hEnd, wEnd]}. The constructor copies the arrays and rejects wrong
 * lengths, non-positive sizes, strides or dilations, negative pads, channels not divisible by groups and an empty output.
 */
public record Conv3dSpec(int batch, int inChannels, int outChannels, int groups, int[] in, int[] kernel, int[] strides,
        int[] pads, int[] dilations) {

    public Conv3dSpec {
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
        dilations = Checks3d.ints("dilations", dilations, 3, 1);
        for (int a = 0; a < 3; a++) {
            long span = in[a] + (long) pads[a] + pads[a + 3] - (long) dilations[a] * (kernel[a] - 1) - 1;
            if (span < 0) {
                throw new IllegalArgumentException("kernel " + Arrays.toString(kernel) + " with dilations " + Arrays.toString(dilations)
                        + " is larger than the padded input " + Arrays.toString(in) + " (pads " + Arrays.toString(pads) + ")");
            }
        }
    }

    /** Output size along axis a (0 = D, 1 = H, 2 = W). */
    public int out(int a) {
        return (in[a] + pads[a] + pads[a + 3] - dilations[a] * (kernel[a] - 1) - 1) / strides[a] + 1;
    }

    /** Output sizes [oD, oH, oW]. */
    public int[] out() { return new int[] {out(0), out(1), out(2)}; }

    @Override public int[] in() { return in.clone(); }
    @Override public int[] kernel() { return kernel.clone(); }
    @Override public int[] strides() { return strides.clone(); }
    @Override public int[] pads() { return pads.clone(); }
    @Override public int[] dilations() { return dilations.clone(); }

    /** The input volume sampled on the output grid. */
    VolumeGeom geom() { return new VolumeGeom(in, out(), kernel, strides, Arrays.copyOf(pads, 3), dilations); }

    @Override
    public String toString() {
        return "Conv3dSpec[batch=" + batch + ", in=" + inChannels + "x" + Arrays.toString(in) + ", out=" + outChannels + "x" + Arrays.toString(out())
                + ", kernel=" + Arrays.toString(kernel) + ", strides=" + Arrays.toString(strides) + ", pads=" + Arrays.toString(pads)
                + ", dilations=" + Arrays.toString(dilations) + ", groups=" + groups + "]";
    }
}
