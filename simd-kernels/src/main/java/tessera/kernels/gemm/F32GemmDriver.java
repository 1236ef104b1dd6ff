package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import tessera.kernels.Activation;
import tessera.kernels.ComputePool;

/**
 * The float32 GEMM engine (Goto/BLIS loop nest): C is split into one block per thread (along N when N ≥ M,
 * otherwise along M); each block runs jc (NC) → pc (KC, pack B into L3-sized panel) → ic (MC, pack A into L2-sized
 * block) → jr (NR) → ir (MR) → {@link F32GemmMicrokernel4x2v}. Every C element is reduced in the same order
 * whatever the partition, so results do not depend on the thread count.
 *
 * <p>Scratch: the {@link F32GemmScratch} arrays of the thread running each block.
 */
final class F32GemmDriver {
    private F32GemmDriver() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int MR = F32GemmMicrokernel4x2v.MR;
    private static final int NR = F32GemmMicrokernel4x2v.NR;
    private static final int KC = F32GemmBlocking.KC;
    private static final int MC = F32GemmBlocking.MC;
    private static final int NC = F32GemmBlocking.NC;
    /** Below this many multiply-adds per thread a split is not worth waking the workers. */
    private static final long MIN_FLOPS_PER_TASK = 1L << 18;

    /** Runs a validated, non-degenerate (m, n, k ≥ 1, alpha ≠ 0) product described by {@code job}. */
    static void run(F32GemmJob job) {
        partition(job, sharable(job) ? ComputePool.threads() : 1);
        if (job.tasks() == 1) {
            computeBlock(job, 0, job.m, 0, job.n);
        } else {
            ComputePool.parallelFor(job.tasks(), job);
        }
    }

    /** A never-started thread: segments it may access are usable from the pool's workers (not thread-confined). */
    private static final Thread ANY_OTHER_THREAD = new Thread(() -> { }, "tessera-gemm-probe");

    /** True when every segment of the job may be read/written from another thread (else the job runs inline). */
    private static boolean sharable(F32GemmJob j) {
        return accessible(j.a) && accessible(j.b) && accessible(j.c)
                && (j.epilogue == null || (accessible(j.epilogue.rowBias()) && accessible(j.epilogue.colBias())
                        && accessible(j.epilogue.residual())));
    }

    private static boolean accessible(MemorySegment s) { return s == null || s.isAccessibleBy(ANY_OTHER_THREAD); }

    /** Chooses a 1-D split of C over at most {@code threads} tasks (rows in MR multiples, columns in NR multiples). */
    static void partition(F32GemmJob job, int threads) {
        long macs = (long) job.m * job.n * job.k;
        int t = (int) Math.max(1, Math.min(threads, macs / MIN_FLOPS_PER_TASK));
        int colTiles = (job.n + NR - 1) / NR, rowTiles = (job.m + MR - 1) / MR;
        job.rowTasks = 1;
        job.colTasks = 1;
        job.rowChunk = job.m;
        job.colChunk = job.n;
        if (t == 1) return;
        // split the dimension with more tiles (the other keeps its full extent and its packing is shared in cache)
        if ((long) colTiles * NR >= (long) rowTiles * MR && colTiles >= t) {
            job.colChunk = (colTiles + t - 1) / t * NR;
            job.colTasks = (job.n + job.colChunk - 1) / job.colChunk;
        } else if (rowTiles >= t) {
            job.rowChunk = (rowTiles + t - 1) / t * MR;
            job.rowTasks = (job.m + job.rowChunk - 1) / job.rowChunk;
        } else if (colTiles >= t) {
            job.colChunk = (colTiles + t - 1) / t * NR;
            job.colTasks = (job.n + job.colChunk - 1) / job.colChunk;
        }
    }

    /** Computes C[i0, i1) × [j0, j1) (i0 a multiple of MR) on the calling thread. */
    static void computeBlock(F32GemmJob g, int i0, int i1, int j0, int j1) {
        F32GemmScratch scratch = F32GemmScratch.ofCurrentThread();
        int ncMax = Math.min(NC, F32GemmBlocking.roundUp(j1 - j0, NR));
        int kcMax = Math.min(KC, g.k);
        float[] bPack = scratch.packedB(kcMax * ncMax);
        float[] aSrc = g.packed == null ? scratch.packedA(MC * kcMax) : g.packed.data;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < g.k; pc += KC) {
                int kc = Math.min(KC, g.k - pc);
                boolean first = pc == 0, last = pc + kc >= g.k;
                F32GemmPacking.packB(g.transB, g.b, g.bOff, g.ldb, pc, kc, jc, nc, bPack);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    int aBase;
                    if (g.packed == null) {
                        F32GemmPacking.packA(g.transA, g.a, g.aOff, g.lda, ic, mc, pc, kc, aSrc, 0);
                        aBase = 0;
                    } else {
                        aBase = g.packed.elementOffset(ic, pc);
                    }
                    macroKernel(g, aSrc, aBase, bPack, scratch.tile, ic, mc, jc, nc, kc, first, last);
                }
            }
        }
    }

    /** All MR×NR tiles of one packed MC×KC block of A against one packed KC×NC panel of B. */
    private static void macroKernel(F32GemmJob g, float[] aSrc, int aOff, float[] bPack, float[] tile,
            int ic, int mc, int jc, int nc, int kc, boolean first, boolean last) {
        // full tiles go straight into C when no alpha, no beta other than 0 or 1, and at most the usual convolution
        // epilogue (row bias, residual, ReLU or none — applied in registers) is needed
        boolean plainMerge = g.alpha == 1f && (!first || g.beta == 0f || g.beta == 1f);
        GemmEpilogue ep = last ? g.epilogue : null;
        boolean direct = plainMerge && (ep == null || (ep.colBias() == null
                && (ep.act() == Activation.IDENTITY || ep.act() == Activation.RELU)));
        boolean relu = ep != null && ep.act() == Activation.RELU;
        MemorySegment rb = ep == null ? null : ep.rowBias(), res = ep == null ? null : ep.residual();
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bOff = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (direct && mr == MR && nr == NR) {
                    int row = ic + ir, col = jc + jr;
                    long cByte = (g.cOff + (long) row * g.ldc + col) * 4;
                    long rbByte = rb == null ? 0 : (ep.rowBiasOffset() + row) * 4;
                    float b0 = rb == null ? 0f : rb.get(F, rbByte), b1 = rb == null ? 0f : rb.get(F, rbByte + 4);
                    float b2 = rb == null ? 0f : rb.get(F, rbByte + 8), b3 = rb == null ? 0f : rb.get(F, rbByte + 12);
                    long resByte = res == null ? 0 : (ep.residualOffset() + (long) row * ep.ldResidual() + col) * 4;
                    long ldRes = res == null ? 0 : ep.ldResidual() * 4L;
                    F32GemmMicrokernel4x2v.computeInto(aSrc, aOff + ir * kc, bPack, bOff, kc, g.c, cByte, g.ldc * 4L,
                            !first || g.beta != 0f, b0, b1, b2, b3, res, resByte, ldRes, relu);
                } else {
                    if (nr <= NR / 2) F32GemmMicrokernel4x2v.computeHalf(aSrc, aOff + ir * kc, bPack, bOff, kc, tile, 0);
                    else F32GemmMicrokernel4x2v.compute(aSrc, aOff + ir * kc, bPack, bOff, kc, tile, 0);
                    F32GemmTileStore.store(tile, 0, g.c, g.cOff, g.ldc, ic + ir, jc + jr, mr, nr,
                            g.alpha, g.beta, first, last, g.epilogue);
                }
            }
        }
    }
}
