package tessera.onnx.infer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import tessera.memory.Tensor;
import tessera.onnx.Elementwise;

/**
 * Data-movement and small elementwise kernels the engine needs beyond the kernel library: strided copies
 * (Transpose, Slice, Pad interiors, Concat), MaxUnpool with ONNX flat indices, and the scalar loops of the
 * {@link Elementwise} operators (unary maps, broadcasting binary ops, comparisons, Where, casts). Activations
 * (Relu … Clip, HardSigmoid, HardSwish, Selu) run on the kernel library's table, {@code tessera.kernels.eltwise.Activations}.
 * Each kernel object is bound to fixed tensors and owns its index counters, so running it allocates nothing.
 */
final class DataOps {
    private DataOps() {}

    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Copies a strided view into another strided view of the same shape; the innermost run uses bulk copies when both are unit-stride. */
    static final class StridedCopy implements Runnable {
        private final MemorySegment src, dst;
        private final long srcOff, dstOff;
        private final long[] ss, ds;
        private final int[] shape, idx;
        private final int elem;

        StridedCopy(Tensor from, Tensor to) { this(from, 0, from.strides(), to); }

        /** Copies {@code from} read at {@code extraOffset} elements further with strides {@code strides} (negative = backwards). */
        StridedCopy(Tensor from, long extraOffset, long[] strides, Tensor to) {
            this.src = from.segment();
            this.dst = to.segment();
            this.elem = from.dtype().byteSize();
            this.srcOff = from.offset() + extraOffset;
            this.dstOff = to.offset();
            this.ss = strides.clone();
            this.ds = to.strides();
            this.shape = from.shape();
            this.idx = new int[Math.max(shape.length, 1)];
            if (!java.util.Arrays.equals(from.shape(), to.shape()) || from.dtype() != to.dtype()) {
                throw new IllegalArgumentException("strided copy from " + from + " to " + to + ": shapes or dtypes differ");
            }
        }

        @Override
        public void run() {
            int r = shape.length;
            if (r == 0) {
                MemorySegment.copy(src, srcOff * elem, dst, dstOff * elem, elem);
                return;
            }
            for (int s : shape) if (s == 0) return;
            int inner = shape[r - 1];
            boolean bulk = ss[r - 1] == 1 && ds[r - 1] == 1;
            java.util.Arrays.fill(idx, 0);
            while (true) {
                long so = srcOff, dof = dstOff;
                for (int d = 0; d < r - 1; d++) {
                    so += idx[d] * ss[d];
                    dof += idx[d] * ds[d];
                }
                if (bulk) MemorySegment.copy(src, so * elem, dst, dof * elem, (long) inner * elem);
                else copyRun(so, dof, inner);
                int d = r - 2;
                for (; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
                if (d < 0) return;
            }
        }

        private void copyRun(long so, long dof, int n) {
            long s1 = ss[ss.length - 1], d1 = ds[ds.length - 1];
            if (elem == 4) {
                for (int i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, dof + i * d1, src.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, so + i * s1));
            } else if (elem == 8) {
                for (int i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, dof + i * d1, src.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, so + i * s1));
            } else if (elem == 2) {
                for (int i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, dof + i * d1, src.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, so + i * s1));
            } else {
                for (int i = 0; i < n; i++) dst.set(ValueLayout.JAVA_BYTE, dof + i * d1, src.get(ValueLayout.JAVA_BYTE, so + i * s1));
            }
        }
    }

    /** Fills a contiguous float tensor with a constant. */
    static void fill(Tensor t, float v) {
        MemorySegment s = t.segment();
        long o = t.offset(), n = t.numel();
        if (v == 0f) {
            s.asSlice(o * 4, n * 4).fill((byte) 0);
            return;
        }
        for (long i = 0; i < n; i++) s.setAtIndex(F, o + i, v);
    }

    /**
     * Erf over contiguous float32, in double lanes ({@link Elementwise#erfF32} on vectors: both branches, blended at
     * |x| = 0.5); the tail runs the scalar form.
     */
    static final class ErfMap {
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

        private ErfMap() {}

        static void run(MemorySegment xs, long xo, MemorySegment ys, long yo, long n) {
            int l = D.length();
            long i = 0;
            java.nio.ByteOrder le = java.nio.ByteOrder.LITTLE_ENDIAN;
            for (; i + l <= n; i += l) {
                DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(FH, xs, (xo + i) * 4, le).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector a = x.abs(), x2 = x.mul(x);
                DoubleVector p = DoubleVector.broadcast(D, Elementwise.ERF_SERIES[8]);
                for (int k = 7; k >= 0; k--) p = p.fma(x2, DoubleVector.broadcast(D, Elementwise.ERF_SERIES[k]));
                DoubleVector small = x.mul(p);
                DoubleVector t = DoubleVector.broadcast(D, 1).div(a.fma(0.5, 1));
                DoubleVector q = DoubleVector.broadcast(D, Elementwise.ERFC_CHEB[9]);
                for (int k = 8; k >= 0; k--) q = q.fma(t, DoubleVector.broadcast(D, Elementwise.ERFC_CHEB[k]));
                DoubleVector erfc = t.mul(q.sub(x2).lanewise(VectorOperators.EXP));
                DoubleVector one = DoubleVector.broadcast(D, 1);
                DoubleVector big = one.sub(erfc).blend(erfc.sub(one), x.compare(VectorOperators.LT, 0));
                DoubleVector y = big.blend(small, a.compare(VectorOperators.LT, 0.5));
                ((FloatVector) y.convertShape(VectorOperators.D2F, FH, 0)).intoMemorySegment(ys, (yo + i) * 4, le);
            }
            for (; i < n; i++) ys.setAtIndex(F, yo + i, (float) Elementwise.erfF32(xs.getAtIndex(F, xo + i)));
        }
    }

    /** y = op(x) for a unary {@link Elementwise} operator, contiguous float32 (evaluated in double, rounded). */
    static final class Map implements Runnable {
        private final Elementwise op;
        private final MemorySegment xs, ys;
        private final long xo, yo, n;

        Map(Elementwise op, Tensor x, Tensor y) {
            this.op = op;
            this.xs = x.segment();
            this.ys = y.segment();
            this.xo = x.offset();
            this.yo = y.offset();
            this.n = x.numel();
        }

        @Override
        public void run() {
            if (op == Elementwise.ERF) {
                ErfMap.run(xs, xo, ys, yo, n);
                return;
            }
            for (long i = 0; i < n; i++) ys.setAtIndex(F, yo + i, (float) op.apply(xs.getAtIndex(F, xo + i)));
        }
    }

    /**
     * out = op(a, b) for a binary {@link Elementwise} operator (U8 0/1 output for comparisons), or, when op is null,
     * Where(cond, x, y) with a U8 condition; the inputs are views already expanded to the output's shape (stride 0 on
     * broadcast dimensions), the output is contiguous. Index counters are owned, so running allocates nothing.
     */
    static final class Broadcast implements Runnable {
        private final Elementwise op;
        private final MemorySegment[] segs;
        private final long[] base;
        private final long[][] strides;
        private final boolean[] bytes;
        private final MemorySegment out;
        private final long outOff, n;
        private final boolean outBytes;
        private final int[] shape, idx;
        private final long[] pos;

        Broadcast(Elementwise op, Tensor[] ins, Tensor y) {
            this.op = op;
            int k = ins.length;
            segs = new MemorySegment[k];
            base = new long[k];
            strides = new long[k][];
            bytes = new boolean[k];
            for (int i = 0; i < k; i++) {
                segs[i] = ins[i].segment();
                base[i] = ins[i].offset();
                strides[i] = ins[i].strides();
                bytes[i] = ins[i].dtype() == tessera.memory.DType.U8;
            }
            out = y.segment();
            outOff = y.offset();
            n = y.numel();
            outBytes = y.dtype() == tessera.memory.DType.U8;
            shape = y.shape();
            idx = new int[shape.length];
            pos = new long[k];
        }

        private double read(int i) {
            return bytes[i] ? segs[i].get(ValueLayout.JAVA_BYTE, pos[i]) : segs[i].getAtIndex(F, pos[i]);
        }

        @Override
        public void run() {
            int r = shape.length;
            java.util.Arrays.fill(idx, 0);
            System.arraycopy(base, 0, pos, 0, pos.length);
            for (long i = 0; i < n; i++) {
                double v = op == null ? (read(0) != 0 ? read(1) : read(2)) : op.apply(read(0), read(1));
                if (outBytes) out.set(ValueLayout.JAVA_BYTE, outOff + i, (byte) v);
                else out.setAtIndex(F, outOff + i, (float) v);
                for (int d = r - 1; d >= 0; d--) {
                    for (int k = 0; k < pos.length; k++) pos[k] += strides[k][d];
                    if (++idx[d] < shape[d]) break;
                    for (int k = 0; k < pos.length; k++) pos[k] -= strides[k][d] * shape[d];
                    idx[d] = 0;
                }
            }
        }
    }

    /** ONNX MaxUnpool: y zero-filled, then y.flat[indices[i]] = x[i] (indices over the whole output tensor). */
    /**
     * Separable interpolation of each [H, W] plane of a contiguous float32 x into y with the tables of
     * {@link OpPlans#resizeTables}: output (oh, ow) is Σ wh[K·oh+a]·ww[K·ow+b]·x[ih[K·oh+a], iw[K·ow+b]].
     */
    static void resize(Tensor x, OpPlans.ResizeTables t, Tensor y) {
        MemorySegment xs = x.segment(), ys = y.segment();
        int inH = x.dim(2), inW = x.dim(3), outH = y.dim(2), outW = y.dim(3), k = t.taps();
        int[] ih = t.ih(), iw = t.iw();
        double[] wh = t.wh(), ww = t.ww();
        long planes = (long) x.dim(0) * x.dim(1), xo = x.offset(), yo = y.offset();
        float ext = (float) t.extrapolation();
        for (long pl = 0; pl < planes; pl++) {
            long xb = xo + pl * inH * inW, yb = yo + pl * outH * outW;
            for (int oh = 0; oh < outH; oh++) {
                long yr = yb + (long) oh * outW;
                for (int ow = 0; ow < outW; ow++) {
                    if (ih[k * oh] < 0 || iw[k * ow] < 0) {
                        ys.setAtIndex(F, yr + ow, ext);
                        continue;
                    }
                    float s = 0f;
                    for (int a = 0; a < k; a++) {
                        long r = xb + (long) ih[k * oh + a] * inW;
                        float row = 0f;
                        for (int b = 0; b < k; b++) row += (float) ww[k * ow + b] * xs.getAtIndex(F, r + iw[k * ow + b]);
                        s += (float) wh[k * oh + a] * row;
                    }
                    ys.setAtIndex(F, yr + ow, s);
                }
            }
        }
    }

    static void maxUnpool(Tensor x, Tensor indices, Tensor y, String node) {
        fill(y, 0f);
        MemorySegment xs = x.segment(), is = indices.segment(), ys = y.segment();
        long n = x.numel(), total = y.numel();
        for (long i = 0; i < n; i++) {
            long k = is.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, indices.offset() + i);
            if (k < 0 || k >= total) {
                throw new IllegalArgumentException(node + ": MaxUnpool index " + k + " is outside the output of " + total + " elements");
            }
            ys.setAtIndex(F, y.offset() + k, xs.getAtIndex(F, x.offset() + i));
        }
    }

    /**
     * Converts per-plane max-pool indices (h·W + w) to ONNX flat indices over [N, C, H, W], in place; with
     * {@code columnMajorH} > 0 (storage_order = 1) the in-plane index becomes w·H + h.
     */
    static void planeToFlatIndices(Tensor indices, long planeSize, int columnMajorH, int w) {
        MemorySegment s = indices.segment();
        int n = indices.dim(0), c = indices.dim(1);
        long per = indices.numel() / Math.max(1, (long) n * c);
        long o = indices.offset();
        for (long p = 0; p < (long) n * c; p++) {
            long base = p * planeSize;
            for (long j = 0; j < per; j++) {
                long at = o + p * per + j;
                long k = s.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, at);
                if (columnMajorH > 0) k = (k % w) * columnMajorH + k / w;
                s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, at, k + base);
            }
        }
    }

    /** Edge/reflect padding of any axes: fills the border of {@code y} (any element type) whose interior already holds x. */
    static final class PadBorder implements Runnable {
        private final Tensor y;
        private final int[] before, inShape, shape, idx;
        private final boolean reflect;
        private final MemorySegment seg;
        private final long off;
        private final long[] st;
        private final int elem;

        PadBorder(Tensor y, int[] before, int[] inShape, boolean reflect) {
            this.y = y;
            this.before = before;
            this.inShape = inShape;
            this.shape = y.shape();
            this.idx = new int[shape.length];
            this.reflect = reflect;
            this.seg = y.segment();
            this.off = y.offset();
            this.st = y.strides();
            this.elem = y.dtype().byteSize();
        }

        @Override
        public void run() {
            long n = y.numel();
            java.util.Arrays.fill(idx, 0);
            for (long i = 0; i < n; i++) {
                boolean border = false;
                long src = off;
                for (int d = 0; d < shape.length; d++) {
                    int p = idx[d] - before[d];
                    if (p < 0 || p >= inShape[d]) {
                        border = true;
                        if (reflect) {
                            int m = inShape[d];
                            int period = Math.max(1, 2 * (m - 1));
                            p = Math.floorMod(p, period);
                            if (p >= m) p = period - p;
                        } else {
                            p = Math.max(0, Math.min(inShape[d] - 1, p));
                        }
                    }
                    src += (long) (p + before[d]) * st[d];
                }
                if (border) {
                    long dst = off;
                    for (int d = 0; d < shape.length; d++) dst += idx[d] * st[d];
                    MemorySegment.copy(seg, src * elem, seg, dst * elem, elem);
                }
                for (int d = shape.length - 1; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
            }
        }
    }
}
