package tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32-maxpool-padded: max pooling of one small plane, for windows of stride 1 (an Inception branch's 3×3 pool on
 * 28×28 or 14×14 maps: no scalar edge outputs) and planes too narrow for {@link F32PoolForward}'s row vectors (a
 * stride-2 pool down to 7×7). The plane is copied once into a
 * heap array bordered with −∞ (so padding and ceil-mode overhang never win and no tap needs a bounds test); each
 * output row is the stride-1 window maximum over whole vectors of padded columns, from which every stride-th column
 * is taken; the output plane goes back in one copy. NaN propagates as in the row kernel. Any kernel, stride,
 * dilation and padding; no indices.
 */
final class F32MaxPoolPadded {
    private F32MaxPoolPadded() {}

    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int L = SP.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final java.nio.ByteOrder NO = java.nio.ByteOrder.nativeOrder();

    /** Per-thread heap buffers: the padded plane, one stride-1 output row, the output plane. */
    private static final class Scratch {
        float[] pad = new float[0], row = new float[0], out = new float[0];
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
        if (sc.row.length < rowVecs * L) sc.row = new float[rowVecs * L];
        if (sc.out.length < P * Q + rowVecs * L) sc.out = new float[P * Q + rowVecs * L];
        float[] pad = sc.pad, row = sc.row, out = sc.out;
        Arrays.fill(pad, 0, hp * wp, Float.NEGATIVE_INFINITY);
        // rows by vector loops: a copy call per row cost more than the row's window maxima
        VectorMask<Float> tail = SP.indexInRange(W - W % L, W);
        for (int ih = 0; ih < H; ih++) {
            long from = xb + (long) ih * W * 4;
            int to = (ih + pT) * wp + pL, c = 0;
            for (; c + L <= W; c += L) FloatVector.fromMemorySegment(SP, x, from + c * 4L, NO).intoArray(pad, to + c);
            if (c < W) FloatVector.fromMemorySegment(SP, x, from + c * 4L, NO, tail).intoArray(pad, to + c, tail);
        }
        int sW = s.strideW();
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
