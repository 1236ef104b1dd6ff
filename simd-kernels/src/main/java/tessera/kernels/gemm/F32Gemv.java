package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.Lanes;
import tessera.kernels.eltwise.Activations;

/**
 * f32-gemv-4r: the matrix-vector product y = act(alpha·W·x + bias) that a fully connected layer runs at batch 1,
 * without packing: W (rows × k, row-major) is streamed once, four rows at a time against the same vectors of x
 * (two accumulators per row along k, masked tail), each row reduced in lane order ({@link Lanes}). A GEMM would pack
 * W on every call and use one column of its NR-wide tiles; this is bound by the bandwidth of reading W instead.
 * Rows are split over the {@link ComputePool} in blocks of {@link #ROWS_PER_TASK}.
 */
final class F32Gemv {
    private F32Gemv() {}

    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final int V = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Rows per parallel task (a multiple of 4). */
    static final int ROWS_PER_TASK = 128;

    /** Arguments of one call, reused per calling thread (no allocation per call). */
    private static final class Job implements IntConsumer {
        int rows, k, ldw;
        float alpha;
        MemorySegment w, x, bias, y;
        long wOff, xOff, biasOff, yOff;
        ActivationFn act;

        @Override
        public void accept(int t) {
            int r0 = t * ROWS_PER_TASK, r1 = Math.min(rows, r0 + ROWS_PER_TASK);
            rowsRange(this, r0, r1);
        }
    }

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /**
     * Lanes of one row's accumulator, summed in lane order (a vector passed to a helper C2 does not inline is boxed).
     * Per thread: the pool's workers run tasks of the same job at once.
     */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[4 * V]);

    static void run(int rows, int k, float alpha, MemorySegment w, long wOff, int ldw, MemorySegment x, long xOff,
                    MemorySegment bias, long biasOff, ActivationFn act, MemorySegment y, long yOff) {
        Job j = JOB.get();
        j.rows = rows; j.k = k; j.ldw = ldw; j.alpha = alpha; j.w = w; j.wOff = wOff; j.x = x; j.xOff = xOff;
        j.bias = bias; j.biasOff = biasOff; j.act = act; j.y = y; j.yOff = yOff;
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        boolean parallel = tasks > 1 && (long) rows * k >= 1 << 16 && F32GemmDriver.accessible(w) && F32GemmDriver.accessible(x)
                && F32GemmDriver.accessible(y) && F32GemmDriver.accessible(bias);
        try {
            if (parallel) ComputePool.parallelFor(tasks, j);
            else rowsRange(j, 0, rows);
        } finally {
            j.w = j.x = j.bias = j.y = null;
            j.act = null;
        }
    }


    private static void rowsRange(Job j, int r0, int r1) {
        float[] lanes = LANES.get();
        int r = r0;
        for (; r + 4 <= r1; r += 4) rows4(j, r, lanes);
        for (; r < r1; r++) row1(j, r, lanes);
    }

    /**
     * Rows r..r+3: the full-vector part of k here, the masked tail in {@link #tail1}, the four partial sums passing
     * between them through {@code l} (4·V floats). One method with both loops is too large for C1's tier-3 register
     * allocator ("out of virtual registers"), which leaves it running tier-2 code without Vector API intrinsics.
     */
    private static void rows4(Job j, int r, float[] l) {
        int k = j.k, full = k / (2 * V) * (2 * V);
        long w0 = (j.wOff + (long) r * j.ldw) * 4, ld = j.ldw * 4L, xb = j.xOff * 4;
        MemorySegment w = j.w, x = j.x;
        FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S), a1 = FloatVector.zero(S), b1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), b2 = FloatVector.zero(S), a3 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        for (int p = 0; p < full; p += 2 * V) {
            long o = p * 4L;
            FloatVector x0 = FloatVector.fromMemorySegment(S, x, xb + o, NO);
            FloatVector x1 = FloatVector.fromMemorySegment(S, x, xb + o + V * 4L, NO);
            a0 = FloatVector.fromMemorySegment(S, w, w0 + o, NO).fma(x0, a0);
            b0 = FloatVector.fromMemorySegment(S, w, w0 + o + V * 4L, NO).fma(x1, b0);
            a1 = FloatVector.fromMemorySegment(S, w, w0 + ld + o, NO).fma(x0, a1);
            b1 = FloatVector.fromMemorySegment(S, w, w0 + ld + o + V * 4L, NO).fma(x1, b1);
            a2 = FloatVector.fromMemorySegment(S, w, w0 + 2 * ld + o, NO).fma(x0, a2);
            b2 = FloatVector.fromMemorySegment(S, w, w0 + 2 * ld + o + V * 4L, NO).fma(x1, b2);
            a3 = FloatVector.fromMemorySegment(S, w, w0 + 3 * ld + o, NO).fma(x0, a3);
            b3 = FloatVector.fromMemorySegment(S, w, w0 + 3 * ld + o + V * 4L, NO).fma(x1, b3);
        }
        a0.add(b0).intoArray(l, 0);
        a1.add(b1).intoArray(l, V);
        a2.add(b2).intoArray(l, 2 * V);
        a3.add(b3).intoArray(l, 3 * V);
        if (full < k) for (int i = 0; i < 4; i++) tail1(j, r + i, full, l, i * V);
        for (int i = 0; i < 4; i++) finish(j, r + i, Lanes.sum(l, i * V, V));
    }

    /**
     * Adds the products of k positions [p, k) of row {@code r} to its partial sums {@code l[at, at + V)}; one row
     * per call (four masked accumulators in one method again exhaust C1's register allocator).
     */
    private static void tail1(Job j, int r, int p, float[] l, int at) {
        int k = j.k;
        long w0 = (j.wOff + (long) r * j.ldw) * 4, xb = j.xOff * 4;
        FloatVector acc = FloatVector.fromArray(S, l, at);
        for (; p < k; p += V) {
            VectorMask<Float> m = S.indexInRange(p, k);
            long o = p * 4L;
            acc = FloatVector.fromMemorySegment(S, j.w, w0 + o, NO, m).fma(FloatVector.fromMemorySegment(S, j.x, xb + o, NO, m), acc);
        }
        acc.intoArray(l, at);
    }

    /** One row (the last rows % 4). */
    private static void row1(Job j, int r, float[] l) {
        int k = j.k, full = k / (2 * V) * (2 * V);
        long w0 = (j.wOff + (long) r * j.ldw) * 4, xb = j.xOff * 4;
        FloatVector a = FloatVector.zero(S), b = FloatVector.zero(S);
        int p = 0;
        for (; p < full; p += 2 * V) {
            long o = p * 4L;
            a = FloatVector.fromMemorySegment(S, j.w, w0 + o, NO).fma(FloatVector.fromMemorySegment(S, j.x, xb + o, NO), a);
            b = FloatVector.fromMemorySegment(S, j.w, w0 + o + V * 4L, NO)
                    .fma(FloatVector.fromMemorySegment(S, j.x, xb + o + V * 4L, NO), b);
        }
        a.add(b).intoArray(l, 0);
        if (p < k) tail1(j, r, p, l, 0);
        finish(j, r, Lanes.sum(l, 0, V));
    }



    private static void finish(Job j, int r, float dot) {
        float v = j.alpha * dot;
        if (j.bias != null) v += j.bias.get(F, (j.biasOff + r) * 4);
        if (!j.act.isIdentity()) v = (float) Activations.reference(j.act, v);
        j.y.set(F, (j.yOff + r) * 4, v);
    }
}
