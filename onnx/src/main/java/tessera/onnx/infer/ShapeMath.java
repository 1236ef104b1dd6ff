package tessera.onnx.infer;

import java.util.Arrays;

/** Axis, reshape, squeeze and slice shape rules shared by planning, constant evaluation and the differentiable graph. */
final class ShapeMath {
    private ShapeMath() {}

    static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new IllegalArgumentException(what + " axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /** ONNX reduction axes resolved against {@code rank}: every axis when {@code axes} is null or empty. */
    static int[] reduceAxes(long[] axes, int rank, String what) {
        if (axes == null || axes.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        int[] ax = new int[axes.length];
        for (int i = 0; i < ax.length; i++) ax[i] = axis(axes[i], rank, what);
        return ax;
    }

    static long numel(int[] s) {
        long n = 1;
        for (int x : s) n *= x;
        return n;
    }

    static long prod(int[] s, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) n *= s[i];
        return n;
    }

    /** Reshape target with ONNX rules: 0 copies the input dimension (allowzero=0), -1 is inferred. */
    /** Reshape with {@code allowzero}: a 0 in {@code spec} is a literal zero-size dimension instead of a copy. */
    static int[] reshape(int[] in, long[] spec, boolean allowZero) {
        boolean zero = false;
        for (long v : spec) zero |= v == 0;
        if (!allowZero || !zero) return reshape(in, spec);
        int[] r = new int[spec.length];
        for (int i = 0; i < spec.length; i++) {
            if (spec[i] < 0 || spec[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(spec) + " with allowzero = 1 and a 0 dimension cannot infer -1");
            }
            r[i] = (int) spec[i];
        }
        if (numel(in) != 0) throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(spec) + " (allowzero = 1)");
        return r;
    }

    static int[] reshape(int[] in, long[] spec) {
        int[] r = new int[spec.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.length; i++) {
            long v = spec[i];
            if (v == 0) {
                if (i >= in.length) throw new IllegalArgumentException("shape " + Arrays.toString(spec) + " copies dimension " + i + " of rank-" + in.length + " input");
                v = in[i];
            }
            if (v == -1) {
                if (infer >= 0) throw new IllegalArgumentException("shape " + Arrays.toString(spec) + " has more than one -1");
                infer = i;
                continue;
            }
            if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + Arrays.toString(spec) + " has invalid dimension " + v);
            r[i] = (int) v;
            known *= v;
        }
        long total = numel(in);
        if (infer >= 0) {
            if (known == 0 || total % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(spec));
            }
            r[infer] = (int) (total / known);
        } else if (known != total) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " (" + total + " elements) to " + Arrays.toString(spec));
        }
        return r;
    }

    static int[] squeeze(int[] in, long[] axes) {
        boolean[] drop = new boolean[in.length];
        if (axes == null || axes.length == 0) {
            for (int i = 0; i < in.length; i++) drop[i] = in[i] == 1;
        } else {
            for (long a : axes) {
                int ax = axis(a, in.length, "Squeeze");
                if (in[ax] != 1) throw new IllegalArgumentException("Squeeze axis " + a + " has size " + in[ax] + ", expected 1 (shape " + Arrays.toString(in) + ")");
                drop[ax] = true;
            }
        }
        int[] r = new int[in.length];
        int k = 0;
        for (int i = 0; i < in.length; i++) if (!drop[i]) r[k++] = in[i];
        return Arrays.copyOf(r, k);
    }

    static int[] unsqueeze(int[] in, long[] axes) {
        int outRank = in.length + axes.length;
        boolean[] ins = new boolean[outRank];
        for (long a : axes) {
            int ax = axis(a, outRank, "Unsqueeze");
            if (ins[ax]) throw new IllegalArgumentException("Unsqueeze axes " + Arrays.toString(axes) + " repeat " + a);
            ins[ax] = true;
        }
        int[] r = new int[outRank];
        int k = 0;
        for (int i = 0; i < outRank; i++) r[i] = ins[i] ? 1 : in[k++];
        return r;
    }

    /** A resolved ONNX Slice: per-axis first index, step and element count (the output shape). */
    record SliceRange(int[] starts, int[] steps, int[] shape) {}

    /** ONNX Slice of a tensor of shape {@code in}: negative indices, clamping and negative steps resolved. */
    static SliceRange slice(int[] in, long[] starts, long[] ends, long[] axes, long[] steps) {
        int r = in.length;
        int[] st = new int[r], sp = new int[r], out = in.clone();
        Arrays.fill(sp, 1);
        if (starts.length != ends.length) throw new IllegalArgumentException("Slice starts " + Arrays.toString(starts) + " and ends " + Arrays.toString(ends) + " differ in length");
        for (int i = 0; i < starts.length; i++) {
            int ax = axis(axes == null ? i : axes[i], r, "Slice");
            long step = steps == null ? 1 : steps[i];
            if (step == 0) throw new IllegalArgumentException("Slice step is 0");
            long dim = in[ax];
            long s = starts[i], e = ends[i];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            long count;
            if (step > 0) {
                s = Math.max(0, Math.min(s, dim));
                e = Math.max(0, Math.min(e, dim));
                count = e > s ? (e - s + step - 1) / step : 0;
            } else {
                s = Math.max(-1, Math.min(s, dim - 1));
                e = Math.max(-1, Math.min(e, dim - 1));
                count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
            }
            st[ax] = (int) s;
            sp[ax] = (int) step;
            out[ax] = (int) count;
        }
        return new SliceRange(st, sp, out);
    }
}
