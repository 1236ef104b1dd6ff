package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * The arguments of one float32 GEMM call and its partition into tasks, reused per calling thread so that handing
 * the work to {@link tessera.kernels.ComputePool} allocates nothing. Task t computes the C block
 * rows [rowStart(t), rowStart(t+1)) × columns [colStart(t), colStart(t+1)) with {@link F32GemmDriver#computeBlock}.
 */
final class F32GemmJob implements IntConsumer {
    private static final ThreadLocal<F32GemmJob> PER_THREAD = ThreadLocal.withInitial(F32GemmJob::new);

    boolean transA, transB;
    int m, n, k;
    float alpha, beta;
    MemorySegment a, b, c;
    long aOff, bOff, cOff;
    int lda, ldb, ldc;
    GemmEpilogue epilogue;
    /**
     * True when whole tiles apply the epilogue with the microkernel's straight-line {@link F32GemmMicrokernel#epilogue}:
     * a row bias and/or a residual, then identity, ReLU or Clip ({@link #clamp} with bounds {@link #clampLo},
     * {@link #clampHi}); no column bias. Set by {@link #setEpilogue}.
     */
    boolean tileEpilogue, clamp;
    float clampLo, clampHi;
    PackedA packed;
    /**
     * Column batching ({@link Gemm#sgemmColumnBatched}): 0 for a plain product; otherwise logical column j lies in
     * batch {@code j / segCols} at column {@code j % segCols} of that batch's B, C and residual, whose origins are
     * {@code bSegStride}, {@code cSegStride} and {@code resSegStride} elements apart.
     */
    int segCols;
    /** B supplied panel by panel ({@link Gemm#sgemmPackedSource}); null when B is a matrix in memory. */
    PackedBSource bSource;
    /** B pre-packed over its whole depth ({@link Gemm#sgemm(boolean, int, MemorySegment, long, int, PackedB, MemorySegment, long, int, GemmEpilogue)}), read in place; or null. */
    PackedB packedB;
    long bSegStride, cSegStride, resSegStride;
    /** Kernel and blocking of this call. */
    F32GemmConfig config;
    /** Tasks along rows and columns; rows are split in multiples of MR, columns in multiples of NR. */
    int rowTasks, colTasks, rowChunk, colChunk;
    private boolean busy;

    /** The calling thread's job object, or a fresh one if it is in use (a GEMM called from inside a GEMM). */
    static F32GemmJob acquire() {
        F32GemmJob j = PER_THREAD.get();
        if (j.busy) j = new F32GemmJob();
        j.busy = true;
        return j;
    }

    /** Drops references to the caller's memory and makes the job reusable. */
    void release() {
        a = b = c = null;
        setEpilogue(null);
        packed = null;
        config = null;
        segCols = 0;
        bSource = null;
        packedB = null;
        bSegStride = cSegStride = resSegStride = 0;
        busy = false;
    }

    int tasks() { return rowTasks * colTasks; }

    /** Sets the epilogue (null: none) and whether and how whole tiles apply it in registers. */
    void setEpilogue(GemmEpilogue ep) {
        epilogue = ep;
        tessera.kernels.Activation act = ep == null ? tessera.kernels.Activation.IDENTITY : ep.act();
        tileEpilogue = ep != null && ep.colBias() == null && (act == tessera.kernels.Activation.IDENTITY
                || act == tessera.kernels.Activation.RELU || act == tessera.kernels.Activation.CLIP);
        clamp = tileEpilogue && act != tessera.kernels.Activation.IDENTITY;
        clampLo = act == tessera.kernels.Activation.CLIP ? ep.activation().a() : 0f;
        clampHi = act == tessera.kernels.Activation.CLIP ? ep.activation().b() : Float.POSITIVE_INFINITY;
    }

    @Override
    public void accept(int t) {
        int rt = t / colTasks, ct = t % colTasks;
        int i0 = rt * rowChunk, i1 = Math.min(m, i0 + rowChunk);
        int j0 = ct * colChunk, j1 = Math.min(n, j0 + colChunk);
        if (i0 < i1 && j0 < j1) F32GemmDriver.computeBlock(this, i0, i1, j0, j1);
    }
}
