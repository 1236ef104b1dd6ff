package tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.layout.F32Copy;

/**
 * f32-maxpool-padded: max pooling of one small plane, for windows of stride 1 (an Inception branch's 3×3 pool on
 * 28×28 or 14×14 maps: no scalar edge outputs), 3×3 stride-2 windows (no scalar edge outputs either) and planes too
 * narrow for {@link F32PoolForward}'s row vectors (a stride-2 pool down to 7×7). The plane is copied once into a
 * heap array bordered with −∞ (so padding and ceil-mode overhang never win and no tap needs a bounds test). Undilated
 * windows are taken separably — each padded row's kW-wide maxima, then the maximum of kH of those rows — over whole
 * vectors of stride-1 columns, from which every stride-th column is picked; dilated windows take every tap per output
 * vector. The output plane goes back in one copy. NaN propagates as in the row kernel. Any kernel, stride, dilation
 * and padding; {@link #planeIndexed} also returns the argmax.
 */
final class F32MaxPoolPadded {
    private F32MaxPoolPadded() {}

    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int L = SP.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Per-thread heap buffers: the padded plane, one stride-1 output row, the output plane; their argmax twins. */
    private static final class Scratch {
        float[] pad = new float[0], row = new float[0], out = new float[0], rowMax = new float[0];
        int[] rowIdx = new int[0];
        long[] outIdx = new long[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** One plane: x at byte offset {@code xb} (H×W floats), y at byte offset {@code yb} (P×Q floats). */
    static void plane(PoolSpec s, int H, int W, int P, int Q, MemorySegment x, long xb, MemorySegment y, long yb) {
        int kH = s.kernelH(), kW = s.kernelW(), dH = s.dilationH(), dW = s.dilationW();
        int pT = s.padTop(), pL = s.padLeft();
        int rowsNeeded = (P - 1) * s.strideH() + (kH - 1) * dH + 1;
        int colsOut = (Q - 1) * s.strideW() + 1;                       // stride-1 columns the picks need
        int rowVecs = (colsOut + L - 1) / L;
        int wp = Math.max(W + pL, rowVecs * L + (kW - 1) * dW);       // every vector read stays in its row
        int hp = Math.max(H + pT, rowsNeeded);
        Scratch sc = SCRATCH.get();
        if (sc.pad.length < hp * wp) sc.pad = new float[hp * wp];
        if (sc.row.length < rowVecs * L + 2 * L) sc.row = new float[rowVecs * L + 2 * L];
        if (sc.out.length < P * Q + rowVecs * L) sc.out = new float[P * Q + rowVecs * L];
        float[] pad = sc.pad, row = sc.row, out = sc.out;
        fillPadded(x, xb, H, W, pT, pL, hp, wp, pad); // rows by vector loops: a copy call per row cost more than the row
        int sW = s.strideW();
        if (dH == 1 && dW == 1) {
            // separable: each padded row's kW-wide maxima once, then kH of those rows per output row (3×3: 4 maxima per
            // output instead of 8; a stride-1 pool reuses every row's maxima three times). Every undilated window
            // shape shares these two small methods, so they are hot enough for C2 (a rarely called variant for
            // GoogLeNet's one 2×2 pool stayed in C1 in some JVMs, boxing its vectors: 5.4 MB per run)
            if (sc.rowMax.length < rowsNeeded * rowVecs * L) sc.rowMax = new float[rowsNeeded * rowVecs * L];
            float[] hm = sc.rowMax;
            int hw = rowVecs * L;
            for (int r = 0; r < rowsNeeded; r++) rowMax(pad, r * wp, rowVecs, kW, hm, r * hw);
            for (int p = 0; p < P; p++) {
                int h0 = p * s.strideH() * hw;
                if (sW == 1) {
                    columnMax(hm, h0, hw, rowVecs, kH, out, p * Q);
                    continue;
                }
                columnMax(hm, h0, hw, rowVecs, kH, row, 0);
                if (sW == 2) pickEven(row, Q, out, p * Q);
                else for (int q = 0, o = p * Q; q < Q; q++) out[o + q] = row[q * sW];
            }
            MemorySegment.copy(out, 0, y, F, yb, P * Q);
            return;
        }
        for (int p = 0; p < P; p++) {
            if (sW == 1) { // straight into the output plane: rows in order, each one's excess lanes overwritten by the next
                windowMaxRow(pad, p * s.strideH() * wp, wp, kH, dH, kW, dW, rowVecs, out, p * Q);
                continue;
            }
            windowMaxRow(pad, p * s.strideH() * wp, wp, kH, dH, kW, dW, rowVecs, row, 0);
            for (int q = 0, o = p * Q; q < Q; q++) out[o + q] = row[q * sW];
        }
        MemorySegment.copy(out, 0, y, F, yb, P * Q);
    }

    /**
     * {@link #plane} with the argmax: {@code idx} at byte offset {@code ib} gets P×Q longs, each the flat index
     * {@code h·W + w} in the input plane of the window's first maximum in row-major tap order, or of its last NaN —
     * PyTorch's rule, as {@link F32PoolForward#argmax}. (Training's pools: LeNet's 2×2 pools on 28×28 and 10×10 maps
     * were one scalar window per output.) A window whose taps are all −∞ takes the scalar path for its index.
     */
    static void planeIndexed(PoolSpec s, int H, int W, int P, int Q, MemorySegment x, long xb, MemorySegment y, long yb,
                             MemorySegment idx, long ib) {
        int kH = s.kernelH(), kW = s.kernelW(), dH = s.dilationH(), dW = s.dilationW();
        int pT = s.padTop(), pL = s.padLeft(), sW = s.strideW();
        int rowsNeeded = (P - 1) * s.strideH() + (kH - 1) * dH + 1;
        int colsOut = (Q - 1) * sW + 1;
        int rowVecs = (colsOut + L - 1) / L;
        int wp = Math.max(W + pL, rowVecs * L + (kW - 1) * dW);
        int hp = Math.max(H + pT, rowsNeeded);
        Scratch sc = SCRATCH.get();
        if (sc.pad.length < hp * wp) sc.pad = new float[hp * wp];
        if (sc.row.length < rowVecs * L) sc.row = new float[rowVecs * L];
        if (sc.rowIdx.length < rowVecs * L) sc.rowIdx = new int[rowVecs * L];
        if (sc.out.length < P * Q) sc.out = new float[P * Q];
        if (sc.outIdx.length < P * Q) sc.outIdx = new long[P * Q];
        float[] pad = sc.pad, row = sc.row, out = sc.out;
        int[] rowIdx = sc.rowIdx;
        long[] outIdx = sc.outIdx;
        fillPadded(x, xb, H, W, pT, pL, hp, wp, pad);
        for (int p = 0; p < P; p++) {
            int first = (p * s.strideH() - pT) * W - pL; // flat input index of padded (row p·sH, column 0)
            windowArgmaxRow(pad, p * s.strideH() * wp, wp, kH, dH, kW, dW, rowVecs, W, first, row, rowIdx);
            for (int q = 0, o = p * Q; q < Q; q++) {
                int at = q * sW, i = rowIdx[at];
                if (i < 0) { // every tap −∞ (or padding): the scalar rule picks the first tap inside the input
                    int h0 = p * s.strideH() - pT, w0 = q * sW - pL;
                    long best = F32PoolForward.argmax(x, xb, W, h0, w0, dH, dW, PoolWindows.firstTap(h0, dH),
                            PoolWindows.endTap(h0, kH, dH, H), PoolWindows.firstTap(w0, dW), PoolWindows.endTap(w0, kW, dW, W));
                    out[o + q] = x.get(F, xb + best * 4);
                    outIdx[o + q] = best;
                } else {
                    out[o + q] = row[at];
                    outIdx[o + q] = i;
                }
            }
        }
        MemorySegment.copy(out, 0, y, F, yb, P * Q);
        MemorySegment.copy(outIdx, 0, idx, ValueLayout.JAVA_LONG_UNALIGNED, ib, P * Q);
    }

    /** hm[out + j] = max of pad[base + j + c], c below kW, for j below rowVecs·L (first maximum; NaN wins). */
    private static void rowMax(float[] pad, int base, int rowVecs, int kW, float[] hm, int out) {
        for (int v = 0; v < rowVecs; v++) {
            int j = base + v * L;
            FloatVector m = FloatVector.fromArray(SP, pad, j);
            for (int c = 1; c < kW; c++) {
                FloatVector t = FloatVector.fromArray(SP, pad, j + c);
                m = m.blend(t, t.compare(VectorOperators.GT, m).or(t.compare(VectorOperators.NE, t)));
            }
            m.intoArray(hm, out + v * L);
        }
    }

    /** row[out + j] = max over r below kH of hm[h0 + r·hw + j] (first maximum; NaN wins). */
    private static void columnMax(float[] hm, int h0, int hw, int rowVecs, int kH, float[] row, int out) {
        for (int v = 0; v < rowVecs; v++) {
            int j = h0 + v * L;
            FloatVector m = FloatVector.fromArray(SP, hm, j);
            for (int r = 1; r < kH; r++) {
                FloatVector t = FloatVector.fromArray(SP, hm, j + r * hw);
                m = m.blend(t, t.compare(VectorOperators.GT, m).or(t.compare(VectorOperators.NE, t)));
            }
            m.intoArray(row, out + v * L);
        }
    }

    /**
     * out[o + q] = row[2q] for q below Q, whole vectors by compacting the even lanes of two loads (row holds 2·L floats
     * of slack; out's lanes past Q are overwritten by the next output row or lie in its slack).
     */
    private static void pickEven(float[] row, int q, float[] out, int o) {
        FloatVector even = FloatVector.zero(SP).addIndex(2); // selectFrom indices 2j into [lo | hi]
        for (int i = 0; i < q; i += L) {
            FloatVector lo = FloatVector.fromArray(SP, row, 2 * i), hi = FloatVector.fromArray(SP, row, 2 * i + L);
            even.selectFrom(lo, hi).intoArray(out, o + i);
        }
    }

    /** The −∞ border and the plane's rows (vector loops with a masked tail). */
    private static void fillPadded(MemorySegment x, long xb, int H, int W, int pT, int pL, int hp, int wp, float[] pad) {
        Arrays.fill(pad, 0, hp * wp, Float.NEGATIVE_INFINITY);
        for (int ih = 0; ih < H; ih++) F32Copy.toArray(x, xb + (long) ih * W * 4, pad, (ih + pT) * wp + pL, W);
    }

    /**
     * {@link #windowMaxRow} with the argmax: rowIdx[j] = flat input index ({@code first + r·dH·W + j + c·dW}) of the
     * winning tap, −1 when no tap won (all −∞).
     */
    private static void windowArgmaxRow(float[] pad, int base, int wp, int kH, int dH, int kW, int dW, int rowVecs, int W,
                                        int first, float[] row, int[] rowIdx) {
        IntVector lanes = IntVector.zero(ISP).addIndex(1);
        for (int v = 0; v < rowVecs; v++) {
            int j = v * L;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            IntVector mi = IntVector.broadcast(ISP, -1);
            for (int r = 0; r < kH; r++) {
                int at = base + r * dH * wp + j, flat = first + r * dH * W + j;
                for (int c = 0; c < kW; c++) {
                    FloatVector t = FloatVector.fromArray(SP, pad, at + c * dW);
                    VectorMask<Float> take = t.compare(VectorOperators.GT, m).or(t.compare(VectorOperators.NE, t));
                    m = m.blend(t, take);
                    mi = mi.blend(lanes.add(flat + c * dW), take.cast(ISP));
                }
            }
            m.intoArray(row, j);
            mi.intoArray(rowIdx, j);
        }
    }

    private static final VectorSpecies<Integer> ISP = VectorSpecies.of(int.class, SP.vectorShape());

    /** row[out + j] = max over taps (r, c) of pad[base + r·dH·wp + j + c·dW] for j below rowVecs·L. */
    private static void windowMaxRow(float[] pad, int base, int wp, int kH, int dH, int kW, int dW, int rowVecs, float[] row,
                                     int out) {
        for (int v = 0; v < rowVecs; v++) {
            int j = v * L;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < kH; r++) {
                int at = base + r * dH * wp + j;
                for (int c = 0; c < kW; c++) {
                    FloatVector t = FloatVector.fromArray(SP, pad, at + c * dW);
                    m = m.blend(t, t.compare(VectorOperators.GT, m).or(t.compare(VectorOperators.NE, t)));
                }
            }
            m.intoArray(row, out + j);
        }
    }
}
