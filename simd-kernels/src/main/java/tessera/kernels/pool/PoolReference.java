package tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Float64 reference pooling: plain loops that read like the formulas. The test oracle and the engine of gradient
 * checks; {@link Pool2d} routes {@code F64} tensors here.
 *
 * <p>All arrays are contiguous NCHW planes addressed by element offsets: plane {@code n} of {@code x} starts at
 * {@code xOff + n·H·W}, of {@code y} at {@code yOff + n·P·Q}. Indices are int64 flat positions {@code h·W + w}.
 */
final class PoolReference {
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.nativeOrder());

    private PoolReference() {}

    // ---------------------------------------------------------------- windowed pooling

    /** y = pool(x) per plane; {@code idx} (MAX only) may be null. */
    static void forward(PoolSpec s, int planes, int H, int W, MemorySegment x, long xOff,
            MemorySegment y, long yOff, MemorySegment idx, long iOff) {
        int P = s.outH(H), Q = s.outW(W);
        for (int n = 0; n < planes; n++) {
            long xp = xOff + (long) n * H * W;
            long yp = yOff + (long) n * P * Q;
            for (int p = 0; p < P; p++) {
                for (int q = 0; q < Q; q++) {
                    int h0 = p * s.strideH() - s.padTop();
                    int w0 = q * s.strideW() - s.padLeft();
                    long o = yp + (long) p * Q + q;
                    switch (s.type()) {
                        case MAX -> {
                            long best = argmax(s, H, W, x, xp, h0, w0);
                            y.setAtIndex(F64, o, x.getAtIndex(F64, xp + best));
                            if (idx != null) idx.setAtIndex(I64, iOff + (o - yOff), best);
                        }
                        case AVG -> {
                            double sum = 0;
                            for (int r = 0; r < s.kernelH(); r++) {
                                for (int c = 0; c < s.kernelW(); c++) {
                                    int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                                    if (inside(h, w, H, W)) sum += x.getAtIndex(F64, xp + (long) h * W + w);
                                }
                            }
                            y.setAtIndex(F64, o, sum / avgDivisor(s, H, W, h0, w0));
                        }
                        case L2 -> {
                            double sumSq = 0;
                            for (int r = 0; r < s.kernelH(); r++) {
                                for (int c = 0; c < s.kernelW(); c++) {
                                    int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                                    if (inside(h, w, H, W)) {
                                        double v = x.getAtIndex(F64, xp + (long) h * W + w);
                                        sumSq += v * v;
                                    }
                                }
                            }
                            y.setAtIndex(F64, o, Math.sqrt(sumSq));
                        }
                    }
                }
            }
        }
    }

    /**
     * dx = ∂L/∂x from dy. MAX: dy goes to the argmax (from {@code idx}, or recomputed from x when idx is null).
     * AVG: dy/divisor to every tap inside the input. L2: dy·x/y to every tap (0 where y = 0); y recomputed when null.
     */
    static void backward(PoolSpec s, int planes, int H, int W, MemorySegment x, long xOff, MemorySegment y, long yOff,
            MemorySegment idx, long iOff, MemorySegment dy, long dyOff, MemorySegment dx, long dxOff) {
        int P = s.outH(H), Q = s.outW(W);
        for (int n = 0; n < planes; n++) {
            long xp = xOff + (long) n * H * W;
            long dxp = dxOff + (long) n * H * W;
            long op = (long) n * P * Q;
            for (long e = 0; e < (long) H * W; e++) dx.setAtIndex(F64, dxp + e, 0.0);
            for (int p = 0; p < P; p++) {
                for (int q = 0; q < Q; q++) {
                    int h0 = p * s.strideH() - s.padTop();
                    int w0 = q * s.strideW() - s.padLeft();
                    long o = op + (long) p * Q + q;
                    double g = dy.getAtIndex(F64, dyOff + o);
                    switch (s.type()) {
                        case MAX -> {
                            long best = idx != null ? checkedIndex(idx.getAtIndex(I64, iOff + o), H, W, "indices")
                                    : argmax(s, H, W, x, xp, h0, w0);
                            add(dx, dxp + best, g);
                        }
                        case AVG -> {
                            double share = g / avgDivisor(s, H, W, h0, w0);
                            for (int r = 0; r < s.kernelH(); r++) {
                                for (int c = 0; c < s.kernelW(); c++) {
                                    int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                                    if (inside(h, w, H, W)) add(dx, dxp + (long) h * W + w, share);
                                }
                            }
                        }
                        case L2 -> {
                            double norm;
                            if (y != null) {
                                norm = y.getAtIndex(F64, yOff + o);
                            } else {
                                double sumSq = 0;
                                for (int r = 0; r < s.kernelH(); r++) {
                                    for (int c = 0; c < s.kernelW(); c++) {
                                        int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                                        if (inside(h, w, H, W)) {
                                            double v = x.getAtIndex(F64, xp + (long) h * W + w);
                                            sumSq += v * v;
                                        }
                                    }
                                }
                                norm = Math.sqrt(sumSq);
                            }
                            if (norm == 0) continue; // d sqrt(Σx²)/dx is taken as 0 at the origin
                            for (int r = 0; r < s.kernelH(); r++) {
                                for (int c = 0; c < s.kernelW(); c++) {
                                    int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                                    if (inside(h, w, H, W)) {
                                        long e = (long) h * W + w;
                                        add(dx, dxp + e, g * x.getAtIndex(F64, xp + e) / norm);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Flat position of the window maximum, scanning taps row by row: a value wins when it is greater than the
     * current maximum or NaN (PyTorch's rule: NaN propagates, the first of equal values wins).
     */
    static long argmax(PoolSpec s, int H, int W, MemorySegment x, long xp, int h0, int w0) {
        long best = -1;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < s.kernelH(); r++) {
            for (int c = 0; c < s.kernelW(); c++) {
                int h = h0 + r * s.dilationH(), w = w0 + c * s.dilationW();
                if (!inside(h, w, H, W)) continue;
                long e = (long) h * W + w;
                double v = x.getAtIndex(F64, xp + e);
                if (best < 0 || v > bestValue || Double.isNaN(v)) {
                    best = e;
                    bestValue = v;
                }
            }
        }
        return best;
    }

    /**
     * PyTorch's avg_pool2d divisor: with countIncludePad, the taps inside the input plus its padding (a window
     * running past the bottom/right padding in ceil mode counts only up to the padding's end); otherwise only
     * the taps inside the input.
     */
    static int avgDivisor(PoolSpec s, int H, int W, int h0, int w0) {
        int rows = 0, cols = 0;
        for (int r = 0; r < s.kernelH(); r++) {
            int h = h0 + r * s.dilationH();
            if (s.countIncludePad() ? h < H + s.padBottom() : (h >= 0 && h < H)) rows++;
        }
        for (int c = 0; c < s.kernelW(); c++) {
            int w = w0 + c * s.dilationW();
            if (s.countIncludePad() ? w < W + s.padRight() : (w >= 0 && w < W)) cols++;
        }
        return rows * cols;
    }

    private static boolean inside(int h, int w, int H, int W) {
        return h >= 0 && h < H && w >= 0 && w < W;
    }

    private static void add(MemorySegment seg, long e, double v) {
        seg.setAtIndex(F64, e, seg.getAtIndex(F64, e) + v);
    }

    static long checkedIndex(long index, int H, int W, String what) {
        if (index < 0 || index >= (long) H * W) {
            throw new IllegalArgumentException(what + ": index " + index + " is outside the input plane of "
                    + H + "x" + W + " (expected 0 <= index < " + (long) H * W + ")");
        }
        return index;
    }

    // ---------------------------------------------------------------- global pooling and unpooling

    /** y[n] = mean of plane n (H·W elements). */
    static void globalAvg(int planes, int HW, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        for (int n = 0; n < planes; n++) {
            double sum = 0;
            for (int e = 0; e < HW; e++) sum += x.getAtIndex(F64, xOff + (long) n * HW + e);
            y.setAtIndex(F64, yOff + n, sum / HW);
        }
    }

    /** dx[n][e] = dy[n] / HW. */
    static void globalAvgBackward(int planes, int HW, MemorySegment dy, long dyOff, MemorySegment dx, long dxOff) {
        for (int n = 0; n < planes; n++) {
            double share = dy.getAtIndex(F64, dyOff + n) / HW;
            for (int e = 0; e < HW; e++) dx.setAtIndex(F64, dxOff + (long) n * HW + e, share);
        }
    }

    /** y[n] = max of plane n, idx[n] = its flat position (first of equal values, NaN propagates). */
    static void globalMax(int planes, int HW, MemorySegment x, long xOff, MemorySegment y, long yOff,
            MemorySegment idx, long iOff) {
        for (int n = 0; n < planes; n++) {
            long best = 0;
            double bestValue = x.getAtIndex(F64, xOff + (long) n * HW);
            for (int e = 1; e < HW; e++) {
                double v = x.getAtIndex(F64, xOff + (long) n * HW + e);
                if (v > bestValue || Double.isNaN(v)) {
                    best = e;
                    bestValue = v;
                }
            }
            y.setAtIndex(F64, yOff + n, bestValue);
            if (idx != null) idx.setAtIndex(I64, iOff + n, best);
        }
    }

    /** Scatters each plane's values of x (P·Q) into a zeroed plane of y (H·W) at idx; later entries overwrite. */
    static void maxUnpool(int planes, int PQ, int H, int W, MemorySegment x, long xOff, MemorySegment idx, long iOff,
            MemorySegment y, long yOff) {
        long HW = (long) H * W;
        for (int n = 0; n < planes; n++) {
            for (long e = 0; e < HW; e++) y.setAtIndex(F64, yOff + n * HW + e, 0.0);
            for (int k = 0; k < PQ; k++) {
                long at = checkedIndex(idx.getAtIndex(I64, iOff + (long) n * PQ + k), H, W, "indices");
                y.setAtIndex(F64, yOff + n * HW + at, x.getAtIndex(F64, xOff + (long) n * PQ + k));
            }
        }
    }

    /** dx[n][k] = dy[n][idx[n][k]] (the gradient of {@link #maxUnpool}). */
    static void maxUnpoolBackward(int planes, int PQ, int H, int W, MemorySegment idx, long iOff,
            MemorySegment dy, long dyOff, MemorySegment dx, long dxOff) {
        long HW = (long) H * W;
        for (int n = 0; n < planes; n++) {
            for (int k = 0; k < PQ; k++) {
                long at = checkedIndex(idx.getAtIndex(I64, iOff + (long) n * PQ + k), H, W, "indices");
                dx.setAtIndex(F64, dxOff + (long) n * PQ + k, dy.getAtIndex(F64, dyOff + n * HW + at));
            }
        }
    }

    /** dx = 0 except dx[n][idx[n]] = dy[n] (the gradient of {@link #globalMax}). */
    static void globalMaxBackward(int planes, int H, int W, MemorySegment idx, long iOff, MemorySegment dy, long dyOff,
            MemorySegment dx, long dxOff) {
        long HW = (long) H * W;
        for (int n = 0; n < planes; n++) {
            for (long e = 0; e < HW; e++) dx.setAtIndex(F64, dxOff + n * HW + e, 0.0);
            long at = checkedIndex(idx.getAtIndex(I64, iOff + n), H, W, "indices");
            dx.setAtIndex(F64, dxOff + n * HW + at, dy.getAtIndex(F64, dyOff + n));
        }
    }
}
