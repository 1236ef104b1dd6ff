package tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import tessera.kernels.ComputePool;

/**
 * One float32 pooling call split into per-plane tasks for {@link ComputePool#parallelFor}. Each calling thread
 * reuses its own job object (fields set, run, cleared), so a call allocates nothing on the heap. Every task owns
 * one (n, c) plane of the outputs, so results do not depend on the thread count.
 */
final class PoolJob implements IntConsumer {
    enum Kind { FORWARD, BACKWARD, GLOBAL_AVG, GLOBAL_AVG_BACKWARD, GLOBAL_MAX, GLOBAL_MAX_BACKWARD, UNPOOL, UNPOOL_BACKWARD }

    private static final ThreadLocal<PoolJob> PER_THREAD = ThreadLocal.withInitial(PoolJob::new);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.nativeOrder());

    private Kind kind;
    private PoolSpec spec;
    private int H, W, P, Q;
    // segments and byte offsets of plane 0: x (input), y (output), idx (indices), dy, dx
    private MemorySegment x, y, idx, dy, dx;
    private long xb, yb, ib, dyb, dxb;
    private boolean busy;

    /** The calling thread's job, or a fresh one if it is in use further up this thread's stack. */
    static PoolJob get() {
        PoolJob j = PER_THREAD.get();
        return j.busy ? new PoolJob() : j;
    }

    PoolJob geometry(Kind kind, PoolSpec spec, int H, int W, int P, int Q) {
        this.kind = kind;
        this.spec = spec;
        this.H = H;
        this.W = W;
        this.P = P;
        this.Q = Q;
        return this;
    }

    PoolJob x(MemorySegment seg, long byteOff) { x = seg; xb = byteOff; return this; }
    PoolJob y(MemorySegment seg, long byteOff) { y = seg; yb = byteOff; return this; }
    PoolJob idx(MemorySegment seg, long byteOff) { idx = seg; ib = byteOff; return this; }
    PoolJob dy(MemorySegment seg, long byteOff) { dy = seg; dyb = byteOff; return this; }
    PoolJob dx(MemorySegment seg, long byteOff) { dx = seg; dxb = byteOff; return this; }

    /** Runs {@code planes} tasks on the compute pool, then drops the references. */
    void run(int planes) {
        busy = true;
        try {
            ComputePool.parallelFor(planes, this);
        } finally {
            busy = false;
            x = y = idx = dy = dx = null;
            spec = null;
        }
    }

    @Override
    public void accept(int n) {
        long HW = (long) H * W, PQ = (long) P * Q;
        switch (kind) {
            case FORWARD -> F32PoolForward.plane(spec, H, W, P, Q, x, xb + n * HW * 4, y, yb + n * PQ * 4,
                    idx, ib + n * PQ * 8);
            case BACKWARD -> F32PoolBackward.plane(spec, H, W, P, Q, x, xb + n * HW * 4, y, yb + n * PQ * 4,
                    idx, ib + n * PQ * 8, dy, dyb + n * PQ * 4, dx, dxb + n * HW * 4);
            case GLOBAL_AVG -> y.set(F, yb + n * 4L, F32GlobalPool.mean(x, xb + n * HW * 4, (int) HW));
            case GLOBAL_AVG_BACKWARD -> F32GlobalPool.meanBackward(dy.get(F, dyb + n * 4L), (int) HW, dx, dxb + n * HW * 4);
            case GLOBAL_MAX -> F32GlobalPool.max(x, xb + n * HW * 4, (int) HW, y, yb + n * 4L, idx, ib + n * 8L);
            case GLOBAL_MAX_BACKWARD -> F32GlobalPool.maxBackward(
                    PoolReference.checkedIndex(idx.get(I64, ib + n * 8L), H, W, "indices"),
                    dy.get(F, dyb + n * 4L), (int) HW, dx, dxb + n * HW * 4);
            case UNPOOL -> unpoolPlane(n, HW, PQ);
            case UNPOOL_BACKWARD -> unpoolBackwardPlane(n, HW, PQ);
        }
    }

    /** y plane (H×W) zeroed, then y[idx[k]] = x[k] for the P·Q pooled values; later entries overwrite. */
    private void unpoolPlane(int n, long HW, long PQ) {
        long yp = yb + n * HW * 4, xp = xb + n * PQ * 4, ip = ib + n * PQ * 8;
        F32PoolBackward.zero(y, yp, HW);
        for (long k = 0; k < PQ; k++) {
            long at = PoolReference.checkedIndex(idx.get(I64, ip + k * 8), H, W, "indices");
            y.set(F, yp + at * 4, x.get(F, xp + k * 4));
        }
    }

    /** dx[k] = dy[idx[k]] (dy is H×W, dx is P×Q). */
    private void unpoolBackwardPlane(int n, long HW, long PQ) {
        long dyp = dyb + n * HW * 4, dxp = dxb + n * PQ * 4, ip = ib + n * PQ * 8;
        for (long k = 0; k < PQ; k++) {
            long at = PoolReference.checkedIndex(idx.get(I64, ip + k * 8), H, W, "indices");
            dx.set(F, dxp + k * 4, dy.get(F, dyp + at * 4));
        }
    }
}
