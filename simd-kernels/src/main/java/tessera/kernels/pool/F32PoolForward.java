package tessera.kernels.pool;

import static tessera.kernels.pool.PoolWindows.endTap;
import static tessera.kernels.pool.PoolWindows.firstTap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 pooling forward over one NCHW plane, vectorized along the output width.
 *
 * <p>Outputs whose window lies wholly inside the input columns ("interior") are computed {@code L} at a time
 * ({@code L} = float lanes of {@code SPECIES_PREFERRED}) for horizontal strides 1 and 2: stride 1 loads the taps
 * directly, stride 2 de-interleaves two loads with one two-source permute ({@code selectFrom}). The last block
 * overlaps the previous one instead of needing a mask. Edge outputs, and every output for strides ≥ 3, take a
 * scalar float loop with the same semantics. Rows outside the input are skipped per output row.
 *
 * <p>MAX scans taps row by row and takes a value when it is greater than the running maximum or NaN (PyTorch's
 * rule), lane by lane, so values and indices equal the float64 reference's for untied inputs.
 */
final class F32PoolForward {
    static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    static final VectorSpecies<Integer> ISP = tessera.kernels.Species.INT.length() == SP.length()
            ? tessera.kernels.Species.INT : VectorSpecies.of(int.class, SP.vectorShape());
    static final VectorSpecies<Long> LSP = VectorSpecies.of(long.class, SP.vectorShape());
    static final int L = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(NO);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(NO);

    private F32PoolForward() {}

    /**
     * One plane: x at byte offset {@code xb} (H×W floats), y at {@code yb} (P×Q floats), indices at {@code ib}
     * (P×Q longs, MAX only, {@code idx} may be null).
     */
    /** Narrow planes up to this padded size go to {@link F32MaxPoolPadded} (max pooling without indices). */
    private static final long SMALL_PLANE_FLOATS = 1 << 20;

    static void plane(PoolSpec s, int H, int W, int P, int Q, MemorySegment x, long xb, MemorySegment y, long yb,
            MemorySegment idx, long ib) {
        int sW = s.strideW(), kW = s.kernelW(), dW = s.dilationW(), pL = s.padLeft();
        int qLo = PoolWindows.interiorBegin(pL, sW);
        int qHi = PoolWindows.interiorEnd(W, s.effectiveKernelW(), pL, sW, Q);
        boolean vector = sW <= 2 && qHi - qLo >= L && (long) H * W < Integer.MAX_VALUE;
        // stride-1 windows have a scalar edge output per row end (a fifth of a 28×28 plane's work at 10× the cost):
        // the −∞-bordered plane has none
        boolean small = (long) (H + 2 * s.effectiveKernelH()) * (W + 2 * L + 2 * s.effectiveKernelW()) < SMALL_PLANE_FLOATS;
        // 3×3 stride-2 windows (GoogLeNet's and ResNet's pools) too: separable maxima and no scalar edge outputs
        boolean separable2 = sW == 2 && s.strideH() == 2 && kW == 3 && s.kernelH() == 3 && dW == 1 && s.dilationH() == 1;
        if ((!vector || sW == 1 || (separable2 && idx == null)) && s.type() == PoolType.MAX && small) {
            if (idx == null) F32MaxPoolPadded.plane(s, H, W, P, Q, x, xb, y, yb);
            else F32MaxPoolPadded.planeIndexed(s, H, W, P, Q, x, xb, y, yb, idx, ib);
            return;
        }
        if (!vector) { qLo = Q; qHi = Q; }
        boolean max3x3s2 = s.type() == PoolType.MAX && sW == 2 && kW == 3 && dW == 1;
        boolean max2x2s2 = s.type() == PoolType.MAX && sW == 2 && kW == 2 && dW == 1;
        for (int p = 0; p < P; p++) {
            int h0 = p * s.strideH() - s.padTop();
            int rLo = firstTap(h0, s.dilationH());
            int rHi = endTap(h0, s.kernelH(), s.dilationH(), H);
            int ihFirst = h0 + rLo * s.dilationH();
            int rows = rHi - rLo;
            long yRow = yb + (long) p * Q * 4;
            long iRow = ib + (long) p * Q * 8;
            for (int q = 0; q < qLo; q++) scalarOne(s, H, W, x, xb, h0, q * sW - pL, y, yRow + q * 4L, idx, iRow + q * 8L);
            for (int q = qHi; q < Q; q++) scalarOne(s, H, W, x, xb, h0, q * sW - pL, y, yRow + q * 4L, idx, iRow + q * 8L);
            if (!vector) continue;
            switch (s.type()) {
                case MAX -> {
                    if (idx != null) {
                        maxRowIndexed(x, xb, W, ihFirst, rows, s.dilationH(), kW, dW, sW, pL, qLo, qHi, y, yRow, idx, iRow);
                    } else if (max3x3s2) {
                        maxRow3x3s2(x, xb, W, ihFirst, rows, s.dilationH(), pL, qLo, qHi, y, yRow);
                    } else if (max2x2s2) {
                        maxRow2x2s2(x, xb, W, ihFirst, rows, s.dilationH(), pL, qLo, qHi, y, yRow);
                    } else {
                        maxRow(x, xb, W, ihFirst, rows, s.dilationH(), kW, dW, sW, pL, qLo, qHi, y, yRow);
                    }
                }
                case AVG -> {
                    int rowsCounted = s.countIncludePad()
                            ? PoolWindows.paddedTaps(h0, s.kernelH(), s.dilationH(), H, s.padBottom()) : rows;
                    sumRow(x, xb, W, ihFirst, rows, s.dilationH(), kW, dW, sW, pL, qLo, qHi, y, yRow, false,
                            (float) rowsCounted * kW);
                }
                case L2 -> sumRow(x, xb, W, ihFirst, rows, s.dilationH(), kW, dW, sW, pL, qLo, qHi, y, yRow, true, 0f);
            }
        }
    }

    // ---------------------------------------------------------------- strided loads

    /** Lane j picks element 2j of [a | b] where b was loaded L−1 elements after a (so nothing past the span is read). */
    private static FloatVector pickEven() {
        FloatVector twoJ = FloatVector.zero(SP).addIndex(2);
        return twoJ.add(1f, twoJ.compare(VectorOperators.GE, (float) L));
    }

    /** Lanes x[e], x[e+s], ..., x[e+s(L−1)] for s = 1 or 2, reading exactly that span. */
    private static FloatVector load(MemorySegment x, long byteOff, int stride, FloatVector pickEven) {
        FloatVector a = FloatVector.fromMemorySegment(SP, x, byteOff, NO);
        if (stride == 1) return a;
        FloatVector b = FloatVector.fromMemorySegment(SP, x, byteOff + (L - 1) * 4L, NO);
        return pickEven.selectFrom(a, b);
    }

    private static int blockStart(int q, int qHi) {
        return Math.min(q, qHi - L);
    }

    // ---------------------------------------------------------------- MAX

    private static void maxRow(MemorySegment x, long xb, int W, int ihFirst, int rows, int dH, int kW, int dW, int sW,
            int pL, int qLo, int qHi, MemorySegment y, long yRow) {
        FloatVector pick = pickEven();
        for (int q = qLo; q < qHi; q += L) {
            int qb = blockStart(q, qHi);
            int col0 = qb * sW - pL;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < rows; r++) {
                long row = xb + ((long) (ihFirst + r * dH) * W + col0) * 4;
                for (int c = 0; c < kW; c++) {
                    FloatVector v = load(x, row + (long) c * dW * 4, sW, pick);
                    m = m.blend(v, v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v)));
                }
            }
            m.intoMemorySegment(y, yRow + qb * 4L, NO);
        }
    }

    private static void maxRowIndexed(MemorySegment x, long xb, int W, int ihFirst, int rows, int dH, int kW, int dW,
            int sW, int pL, int qLo, int qHi, MemorySegment y, long yRow, MemorySegment idx, long iRow) {
        FloatVector pick = pickEven();
        IntVector laneCols = IntVector.zero(ISP).addIndex(sW);
        for (int q = qLo; q < qHi; q += L) {
            int qb = blockStart(q, qHi);
            int col0 = qb * sW - pL;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            IntVector mi = laneCols.add(ihFirst * W + col0);
            for (int r = 0; r < rows; r++) {
                int rowElem = (ihFirst + r * dH) * W + col0;
                long row = xb + (long) rowElem * 4;
                for (int c = 0; c < kW; c++) {
                    FloatVector v = load(x, row + (long) c * dW * 4, sW, pick);
                    VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
                    m = m.blend(v, take);
                    mi = mi.blend(laneCols.add(rowElem + c * dW), take.cast(ISP));
                }
            }
            m.intoMemorySegment(y, yRow + qb * 4L, NO);
            storeIndices(mi, idx, iRow + qb * 8L);
        }
    }

    /** Widens L int lanes to int64 and stores them at {@code byteOff}. */
    static void storeIndices(IntVector mi, MemorySegment idx, long byteOff) {
        LongVector lo = (LongVector) mi.convertShape(VectorOperators.I2L, LSP, 0);
        LongVector hi = (LongVector) mi.convertShape(VectorOperators.I2L, LSP, 1);
        lo.intoMemorySegment(idx, byteOff, NO);
        hi.intoMemorySegment(idx, byteOff + LSP.length() * 8L, NO);
    }

    /** 3×3 window, horizontal stride 2, no horizontal dilation: taps 0 and 1 share two loads. */
    private static void maxRow3x3s2(MemorySegment x, long xb, int W, int ihFirst, int rows, int dH, int pL,
            int qLo, int qHi, MemorySegment y, long yRow) {
        FloatVector pick = pickEven();
        FloatVector evenAB = FloatVector.zero(SP).addIndex(2);
        FloatVector oddAB = evenAB.add(1f);
        for (int q = qLo; q < qHi; q += L) {
            int qb = blockStart(q, qHi);
            long col0 = xb + (qb * 2L - pL) * 4;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < rows; r++) {
                long row = col0 + (long) (ihFirst + r * dH) * W * 4;
                FloatVector a = FloatVector.fromMemorySegment(SP, x, row, NO);
                FloatVector b = FloatVector.fromMemorySegment(SP, x, row + L * 4L, NO);
                FloatVector t0 = evenAB.selectFrom(a, b);
                FloatVector t1 = oddAB.selectFrom(a, b);
                FloatVector t2 = load(x, row + 8, 2, pick);
                m = m.blend(t0, t0.compare(VectorOperators.GT, m).or(t0.compare(VectorOperators.NE, t0)));
                m = m.blend(t1, t1.compare(VectorOperators.GT, m).or(t1.compare(VectorOperators.NE, t1)));
                m = m.blend(t2, t2.compare(VectorOperators.GT, m).or(t2.compare(VectorOperators.NE, t2)));
            }
            m.intoMemorySegment(y, yRow + qb * 4L, NO);
        }
    }

    /** 2×2 window, horizontal stride 2, no horizontal dilation: both taps from two loads. */
    private static void maxRow2x2s2(MemorySegment x, long xb, int W, int ihFirst, int rows, int dH, int pL,
            int qLo, int qHi, MemorySegment y, long yRow) {
        FloatVector evenAB = FloatVector.zero(SP).addIndex(2);
        FloatVector oddAB = evenAB.add(1f);
        for (int q = qLo; q < qHi; q += L) {
            int qb = blockStart(q, qHi);
            long col0 = xb + (qb * 2L - pL) * 4;
            FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < rows; r++) {
                long row = col0 + (long) (ihFirst + r * dH) * W * 4;
                FloatVector a = FloatVector.fromMemorySegment(SP, x, row, NO);
                FloatVector b = FloatVector.fromMemorySegment(SP, x, row + L * 4L, NO);
                FloatVector t0 = evenAB.selectFrom(a, b);
                FloatVector t1 = oddAB.selectFrom(a, b);
                m = m.blend(t0, t0.compare(VectorOperators.GT, m).or(t0.compare(VectorOperators.NE, t0)));
                m = m.blend(t1, t1.compare(VectorOperators.GT, m).or(t1.compare(VectorOperators.NE, t1)));
            }
            m.intoMemorySegment(y, yRow + qb * 4L, NO);
        }
    }

    // ---------------------------------------------------------------- AVG and L2

    /** Sums (or sums of squares) over the window rows; AVG divides by {@code divisor}, L2 takes the square root. */
    private static void sumRow(MemorySegment x, long xb, int W, int ihFirst, int rows, int dH, int kW, int dW, int sW,
            int pL, int qLo, int qHi, MemorySegment y, long yRow, boolean squares, float divisor) {
        FloatVector pick = pickEven();
        for (int q = qLo; q < qHi; q += L) {
            int qb = blockStart(q, qHi);
            int col0 = qb * sW - pL;
            FloatVector acc = FloatVector.zero(SP);
            for (int r = 0; r < rows; r++) {
                long row = xb + ((long) (ihFirst + r * dH) * W + col0) * 4;
                for (int c = 0; c < kW; c++) {
                    FloatVector v = load(x, row + (long) c * dW * 4, sW, pick);
                    acc = squares ? v.fma(v, acc) : acc.add(v);
                }
            }
            FloatVector out = squares ? acc.sqrt() : acc.div(divisor);
            out.intoMemorySegment(y, yRow + qb * 4L, NO);
        }
    }

    // ---------------------------------------------------------------- scalar outputs (edges, strides ≥ 3)

    /** One output whose window starts at input (h0, w0); same semantics as the vector blocks. */
    static void scalarOne(PoolSpec s, int H, int W, MemorySegment x, long xb, int h0, int w0, MemorySegment y, long yOut,
            MemorySegment idx, long iOut) {
        int dH = s.dilationH(), dW = s.dilationW();
        int rLo = firstTap(h0, dH), rHi = endTap(h0, s.kernelH(), dH, H);
        int cLo = firstTap(w0, dW), cHi = endTap(w0, s.kernelW(), dW, W);
        switch (s.type()) {
            case MAX -> {
                long best = argmax(x, xb, W, h0, w0, dH, dW, rLo, rHi, cLo, cHi);
                y.set(F, yOut, x.get(F, xb + best * 4));
                if (idx != null) idx.set(I64, iOut, best);
            }
            case AVG -> {
                float sum = 0;
                for (int r = rLo; r < rHi; r++) {
                    long row = xb + (long) (h0 + r * dH) * W * 4;
                    for (int c = cLo; c < cHi; c++) sum += x.get(F, row + (long) (w0 + c * dW) * 4);
                }
                int divisor = s.countIncludePad()
                        ? PoolWindows.paddedTaps(h0, s.kernelH(), dH, H, s.padBottom())
                          * PoolWindows.paddedTaps(w0, s.kernelW(), dW, W, s.padRight())
                        : (rHi - rLo) * (cHi - cLo);
                y.set(F, yOut, sum / divisor);
            }
            case L2 -> {
                float sumSq = 0;
                for (int r = rLo; r < rHi; r++) {
                    long row = xb + (long) (h0 + r * dH) * W * 4;
                    for (int c = cLo; c < cHi; c++) {
                        float v = x.get(F, row + (long) (w0 + c * dW) * 4);
                        sumSq = Math.fma(v, v, sumSq);
                    }
                }
                y.set(F, yOut, (float) Math.sqrt(sumSq));
            }
        }
    }

    /** Flat position (h·W + w) of the window maximum over taps [rLo,rHi)×[cLo,cHi), PyTorch's tie/NaN rule. */
    static long argmax(MemorySegment x, long xb, int W, int h0, int w0, int dH, int dW, int rLo, int rHi, int cLo, int cHi) {
        long best = (long) (h0 + rLo * dH) * W + (w0 + cLo * dW);
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int r = rLo; r < rHi; r++) {
            long rowElem = (long) (h0 + r * dH) * W;
            for (int c = cLo; c < cHi; c++) {
                long e = rowElem + w0 + c * dW;
                float v = x.get(F, xb + e * 4);
                if (v > bestValue || Float.isNaN(v)) {
                    bestValue = v;
                    best = e;
                }
            }
        }
        return best;
    }
}
