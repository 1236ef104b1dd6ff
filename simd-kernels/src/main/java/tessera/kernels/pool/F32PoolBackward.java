package tessera.kernels.pool;

import static tessera.kernels.pool.PoolWindows.endTap;
import static tessera.kernels.pool.PoolWindows.firstTap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Float32 pooling backward over one NCHW plane: dx is zeroed (vector stores), then each output's gradient is
 * spread over its window in output order — MAX to the argmax, AVG as dy/divisor to every tap inside the input,
 * L2 as dy·x/y (0 where y = 0). The scatter is scalar (windows overlap); the same order as the float64 reference.
 */
final class F32PoolBackward {
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(NO);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(NO);

    private F32PoolBackward() {}

    static void plane(PoolSpec s, int H, int W, int P, int Q, MemorySegment x, long xb, MemorySegment y, long yb,
            MemorySegment idx, long ib, MemorySegment dy, long dyb, MemorySegment dx, long dxb) {
        zero(dx, dxb, (long) H * W);
        int dH = s.dilationH(), dW = s.dilationW();
        for (int p = 0; p < P; p++) {
            int h0 = p * s.strideH() - s.padTop();
            int rLo = firstTap(h0, dH), rHi = endTap(h0, s.kernelH(), dH, H);
            for (int q = 0; q < Q; q++) {
                int w0 = q * s.strideW() - s.padLeft();
                int cLo = firstTap(w0, dW), cHi = endTap(w0, s.kernelW(), dW, W);
                long o = (long) p * Q + q;
                float g = dy.get(F, dyb + o * 4);
                switch (s.type()) {
                    case MAX -> {
                        long at = idx != null ? PoolReference.checkedIndex(idx.get(I64, ib + o * 8), H, W, "indices")
                                : F32PoolForward.argmax(x, xb, W, h0, w0, dH, dW, rLo, rHi, cLo, cHi);
                        add(dx, dxb + at * 4, g);
                    }
                    case AVG -> {
                        int divisor = s.countIncludePad()
                                ? PoolWindows.paddedTaps(h0, s.kernelH(), dH, H, s.padBottom())
                                  * PoolWindows.paddedTaps(w0, s.kernelW(), dW, W, s.padRight())
                                : (rHi - rLo) * (cHi - cLo);
                        float share = g / divisor;
                        for (int r = rLo; r < rHi; r++) {
                            long row = dxb + (long) (h0 + r * dH) * W * 4;
                            for (int c = cLo; c < cHi; c++) add(dx, row + (long) (w0 + c * dW) * 4, share);
                        }
                    }
                    case L2 -> {
                        float norm;
                        if (y != null) {
                            norm = y.get(F, yb + o * 4);
                        } else {
                            float sumSq = 0;
                            for (int r = rLo; r < rHi; r++) {
                                long row = xb + (long) (h0 + r * dH) * W * 4;
                                for (int c = cLo; c < cHi; c++) {
                                    float v = x.get(F, row + (long) (w0 + c * dW) * 4);
                                    sumSq = Math.fma(v, v, sumSq);
                                }
                            }
                            norm = (float) Math.sqrt(sumSq);
                        }
                        if (norm == 0f) continue;
                        float scale = g / norm;
                        for (int r = rLo; r < rHi; r++) {
                            long rowOff = (long) (h0 + r * dH) * W * 4;
                            for (int c = cLo; c < cHi; c++) {
                                long e = rowOff + (long) (w0 + c * dW) * 4;
                                add(dx, dxb + e, scale * x.get(F, xb + e));
                            }
                        }
                    }
                }
            }
        }
    }

    private static void add(MemorySegment seg, long byteOff, float v) {
        seg.set(F, byteOff, seg.get(F, byteOff) + v);
    }

    /** Sets {@code count} floats at {@code byteOff} to 0 with vector stores and a scalar tail. */
    static void zero(MemorySegment seg, long byteOff, long count) {
        fill(seg, byteOff, count, 0f);
    }

    /** Sets {@code count} floats at {@code byteOff} to {@code value}. */
    static void fill(MemorySegment seg, long byteOff, long count, float value) {
        FloatVector v = FloatVector.broadcast(F32PoolForward.SP, value);
        int lanes = F32PoolForward.L;
        long i = 0;
        for (; i + lanes <= count; i += lanes) v.intoMemorySegment(seg, byteOff + i * 4, NO);
        for (; i < count; i++) seg.set(F, byteOff + i * 4, value);
    }
}
