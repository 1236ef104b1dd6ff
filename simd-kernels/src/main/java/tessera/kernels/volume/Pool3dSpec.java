package tessera.kernels.volume;

import java.util.Arrays;
import tessera.kernels.pool.PoolType;

/**
 * Immutable descriptor of a 3-D pooling window over NCDHW volumes. Per axis a (D, H, W), tap t of output o reads
 * input {@code o·strides[a] − pads[a] + t·dilations[a]}; {@code pads} is ONNX's order
 * {@code [dBegin, hBegin, wBegin, dEnd, hEnd, wEnd]} and may exceed half the kernel (ONNX allows it). Taps outside
 * the input are padding: ignored by MAX and L2; AVG divides by the taps inside the input, or with
 * {@code countIncludePad} by the taps inside the input and its padding (a window running past the end padding in
 * ceil mode counts only up to the padding's end, as {@link tessera.kernels.pool.PoolSpec} does).
 *
 * <p>Output sizes: {@code floor} (or {@code ceil} in ceil mode) of
 * {@code (in + padBegin + padEnd − dilation·(kernel − 1) − 1) / stride + 1}, and in ceil mode the last window must
 * start inside the input or the leading padding.
 */
public record Pool3dSpec(PoolType type, int[] kernel, int[] strides, int[] pads, int[] dilations, boolean ceilMode, boolean countIncludePad) {

    public Pool3dSpec {
        if (type == null) throw new IllegalArgumentException("pool type must not be null (MAX, AVG or L2)");
        kernel = Checks3d.ints("kernel", kernel, 3, 1);
        strides = Checks3d.ints("strides", strides, 3, 1);
        pads = Checks3d.ints("pads", pads, 6, 0);
        dilations = Checks3d.ints("dilations", dilations, 3, 1);
    }

    @Override public int[] kernel() { return kernel.clone(); }
    @Override public int[] strides() { return strides.clone(); }
    @Override public int[] pads() { return pads.clone(); }
    @Override public int[] dilations() { return dilations.clone(); }

    /** Output size along axis a (0 = D, 1 = H, 2 = W) for an input of {@code in} along it. */
    public int out(int a, int in) {
        long num = (long) in + pads[a] + pads[a + 3] - (long) dilations[a] * (kernel[a] - 1) - 1 + (ceilMode ? strides[a] - 1 : 0);
        long out = Math.floorDiv(num, strides[a]) + 1;
        if (ceilMode && (out - 1) * strides[a] >= (long) in + pads[a]) out--;
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, out));
    }

    /** Output sizes for input sizes {@code in} [D, H, W]. */
    public int[] out(int[] in) { return new int[] {out(0, in[0]), out(1, in[1]), out(2, in[2])}; }

    /**
     * Checks this window against an input of {@code in} [D, H, W]: the output must be at least 1 along each axis and
     * every window must overlap the input (a window wholly in the padding has no value). Throws
     * {@link IllegalArgumentException} naming the sizes otherwise.
     */
    public void validate(int[] in) {
        Checks3d.ints("input size", in, 3, 1);
        for (int a = 0; a < 3; a++) {
            int o = out(a, in[a]);
            if (o < 1) throw new IllegalArgumentException("input " + Arrays.toString(in) + " gives output " + Arrays.toString(out(in)) + " for " + this + ": too small");
            for (int i = 0; i < o; i++) {
                int start = i * strides[a] - pads[a];
                if (firstTap(start, a) >= endTap(start, a, in[a])) {
                    throw new IllegalArgumentException("pooling window " + i + " along axis " + "DHW".charAt(a) + " of " + this
                            + " covers no element of the input " + Arrays.toString(in) + ": every window must overlap the input");
                }
            }
        }
    }

    /** First tap of a window starting at input index {@code start} along axis a that lands inside the input. */
    int firstTap(int start, int a) { return start >= 0 ? 0 : Math.min(kernel[a], Math.ceilDiv(-start, dilations[a])); }

    /** One past the last tap of a window starting at {@code start} along axis a that lands before {@code limit}. */
    int endTap(int start, int a, int limit) { return Math.max(0, Math.min(kernel[a], Math.ceilDiv(limit - start, dilations[a]))); }

    @Override
    public String toString() {
        return "Pool3dSpec[" + type + ", kernel=" + Arrays.toString(kernel) + ", strides=" + Arrays.toString(strides) + ", pads="
                + Arrays.toString(pads) + ", dilations=" + Arrays.toString(dilations) + ", ceilMode=" + ceilMode + ", countIncludePad="
                + countIncludePad + "]";
    }
}
