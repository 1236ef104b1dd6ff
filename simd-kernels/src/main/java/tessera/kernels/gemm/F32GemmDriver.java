package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import tessera.kernels.ComputePool;

/**
 * The float32 GEMM engine (Goto/BLIS loop nest): C is split into one block per thread (along N when N ≥ M,
 * otherwise along M); each block runs jc (NC) → pc (KC, pack B into an L3-sized panel) → ic (MC, pack A into an
 * L2-sized block) → B sub-panel (half of L2) → ir (MR) → jr (NR) → the job's {@link F32GemmMicrokernel} into a
 * tile (see {@link #macroKernel} for why rows run outside), merged into C by
 * {@link F32GemmTileStore}. Every C element is reduced in the same order whatever the partition, so results do not
 * depend on the thread count.
 *
 * <p>Scratch: the {@link F32GemmScratch} arrays of the thread running each block.
 */
final class F32GemmDriver {
    private F32GemmDriver() {}

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
        return accessible(j.a) && accessible(j.b) && accessible(j.c) && (j.bSource == null || accessible(j.bSource.memory()))
                && (j.epilogue == null || (accessible(j.epilogue.rowBias()) && accessible(j.epilogue.colBias())
                        && accessible(j.epilogue.residual())));
    }

    /** True when s is null or may be used from the pool's worker threads (not confined to the calling thread). */
    static boolean accessible(MemorySegment s) { return s == null || s.isAccessibleBy(ANY_OTHER_THREAD); }

    /** Chooses a 1-D split of C over at most {@code threads} tasks (rows in MR multiples, columns in NR multiples). */
    static void partition(F32GemmJob job, int threads) {
        int mr = job.config.kernel().mr, nr = job.config.kernel().nr;
        long macs = (long) job.m * job.n * job.k;
        int t = (int) Math.max(1, Math.min(threads, macs / MIN_FLOPS_PER_TASK));
        int colTiles = (job.n + nr - 1) / nr, rowTiles = (job.m + mr - 1) / mr;
        job.rowTasks = 1;
        job.colTasks = 1;
        job.rowChunk = job.m;
        job.colChunk = job.n;
        if (t == 1) return;
        // split the dimension with more tiles (the other keeps its full extent and its packing is shared in cache)
        if ((long) colTiles * nr >= (long) rowTiles * mr && colTiles >= t) {
            job.colChunk = (colTiles + t - 1) / t * nr;
            job.colTasks = (job.n + job.colChunk - 1) / job.colChunk;
        } else if (rowTiles >= t) {
            job.rowChunk = (rowTiles + t - 1) / t * mr;
            job.rowTasks = (job.m + job.rowChunk - 1) / job.rowChunk;
        } else if (colTiles >= t) {
            job.colChunk = (colTiles + t - 1) / t * nr;
            job.colTasks = (job.n + job.colChunk - 1) / job.colChunk;
        }
    }

    /** Computes C[i0, i1) × [j0, j1) (i0 a multiple of MR) on the calling thread. */
    static void computeBlock(F32GemmJob g, int i0, int i1, int j0, int j1) {
        F32GemmMicrokernel kern = g.config.kernel();
        int mr = kern.mr, nr = kern.nr;
        int kcBlock = g.config.blocking().kc(), mcBlock = g.config.blocking().mc(), ncBlock = g.config.blocking().nc();
        F32GemmScratch scratch = F32GemmScratch.ofCurrentThread();
        int ncMax = Math.min(ncBlock, F32GemmBlocking.roundUp(j1 - j0, nr));
        int kcMax = Math.min(kcBlock, g.k);
        float[] bPack = g.packedB != null ? g.packedB.data : scratch.packedB(kcMax * ncMax);
        float[] aSrc = g.packed == null ? scratch.packedA(F32GemmBlocking.roundUp(Math.min(mcBlock, i1 - i0), mr) * kcMax)
                : g.packed.data;
        float[] tile = scratch.tile(F32GemmTileStore.tileFloats(mr, nr));
        // column-batched B whose batches are whole NR strips: panels end at batch boundaries (ResNet-50's 56² 1×1
        // 256→64 at batch 16, thread CPU: 27.4 → 24.8 ms; no gain measured at 28² or 14², where they are not aligned)
        boolean batchPanels = g.segCols > 0 && g.segCols % nr == 0;
        for (int jc = j0, nc; jc < j1; jc += nc) {
            nc = Math.min(ncBlock, j1 - jc);
            if (batchPanels) nc = Math.min(nc, (jc / g.segCols + 1) * g.segCols - jc);
            for (int pc = 0; pc < g.k; pc += kcBlock) {
                int kc = Math.min(kcBlock, g.k - pc);
                boolean first = pc == 0, last = pc + kc >= g.k;
                // the panel: strips of NR columns, bStrip floats apart, the first at bBase
                int bBase = 0, bStrip = kc * nr;
                if (g.packedB != null) {
                    bBase = (jc / nr) * g.k * nr + pc * nr;   // jc is a multiple of NR (task and NC splits are)
                    bStrip = g.k * nr;
                } else if (g.bSource != null) {
                    g.bSource.pack(pc, kc, jc, nc, nr, bPack);
                } else if (g.segCols > 0) {
                    F32GemmPacking.packBSegmented(g.b, g.bOff, g.ldb, g.segCols, g.bSegStride, pc, kc, jc, nc, nr, bPack);
                } else {
                    F32GemmPacking.packB(g.transB, g.b, g.bOff, g.ldb, pc, kc, jc, nc, nr, bPack, scratch.packedBSegment());
                }
                for (int ic = i0; ic < i1; ic += mcBlock) {
                    int mc = Math.min(mcBlock, i1 - ic);
                    int aBase;
                    if (g.packed == null) {
                        F32GemmPacking.packA(g.transA, g.a, g.aOff, g.lda, ic, mc, pc, kc, mr, aSrc, 0);
                        aBase = 0;
                    } else {
                        aBase = g.packed.elementOffset(ic, pc);
                    }
                    macroKernel(g, kern, aSrc, aBase, bPack, bBase, bStrip, tile, ic, mc, jc, nc, kc, first, last);
                }
            }
        }
    }

    /**
     * All MR×NR tiles of one packed MC×KC block of A against one packed KC×NC panel of B. Whole tiles go straight
     * into C when no scaling is needed (alpha = 1 and, on the first k block, beta 0 or 1); the epilogue, if any, is
     * then applied in place on the last k block. Edge tiles and scaled products go through the tile buffer.
     *
     * <p>Loop order: rows outside, columns inside, over B sub-panels sized to half of L2
     * ({@link #subPanelColumns}): one A strip (MR × KC floats, 6 KiB for 6x2v at KC 256) stays in L1 while the B
     * micro-panels stream from L2, and C is written MR rows at a time, sequentially. The BLIS order (columns outside,
     * rows inside) instead keeps one B micro-panel in L1 and streams A strips; it needs that micro-panel to fit in
     * about half of L1, but KC·NR floats is all of L1 for our tiles (256 × 32 floats = 32 KiB for 6x2v on 512-bit,
     * 512 × 16 for 4x2v on 256-bit), and it writes MC interleaved row streams of C that the prefetchers do not follow.
     * Measured on Zen 4 (AVX-512, 1 thread, JMH GemmBench, ops/s, BLIS order → this one): 1024³ 41.4 → 45.3,
     * 2048³ 5.23 → 5.85, im2col 64×3136×576 322 → 346, 128×784×1152 359 → 373, 256×196×2304 313 → 323, 512×49×4608
     * 161 → 163; with 256-bit vectors (-XX:UseAVX=2, 4x2v) 1024³ 40.0 → 41.2, 64×3136×576 248 → 274; ResNet-50
     * batch 16, 1 thread: 1,550 / 1,447 → 1,403 / 1,382 ms.
     */
    private static void macroKernel(F32GemmJob g, F32GemmMicrokernel kern, float[] aSrc, int aOff, float[] bPack,
            int bBase, int bStrip, float[] tile, int ic, int mc, int jc, int nc, int kc, boolean first, boolean last) {
        int mr = kern.mr, nr = kern.nr;
        int panel = subPanelColumns(g, kc, nr);
        for (int jb = 0; jb < nc; jb += panel) {
            int jbEnd = Math.min(nc, jb + panel);
            for (int ir = 0; ir < mc; ir += mr)
                for (int jr = jb; jr < jbEnd; jr += nr)
                    tile(g, kern, aSrc, aOff, bPack, bBase + jr / nr * bStrip, tile, ic, ir, mc, jc, jr, nc, kc, first, last);
        }
    }

    /** Columns of the B sub-panel {@link #macroKernel} sweeps per A strip: KC × columns floats in half of L2. */
    private static int subPanelColumns(F32GemmJob g, int kc, int nr) {
        long cols = g.config.cpu().l2() / 2 / (4L * kc);
        return (int) Math.max(nr, Math.min(Integer.MAX_VALUE, cols) / nr * nr);
    }

    /** One MR×NR tile: A strip at row {@code ir} of the block, B micro-panel at column {@code jr} of the panel. */
    private static void tile(F32GemmJob g, F32GemmMicrokernel kern, float[] aSrc, int aOff, float[] bPack, int bOff,
            float[] tile, int ic, int ir, int mc, int jc, int jr, int nc, int kc, boolean first, boolean last) {
        int mr = kern.mr, nr = kern.nr;
        int nrHere = Math.min(nr, nc - jr);
        int col = jc + jr;
        // column batching: the tile's first column is column jj of batch seg; does the tile stay in that batch?
        int seg = g.segCols > 0 ? col / g.segCols : 0;
        int jj = g.segCols > 0 ? col - seg * g.segCols : col;
        boolean oneBatch = g.segCols == 0 || jj + nrHere <= g.segCols;
        int mrHere = Math.min(mr, mc - ir), row = ic + ir;
        boolean direct = g.alpha == 1f && (!first || g.beta == 0f || g.beta == 1f);
        if (direct && mrHere == mr && nrHere == nr && oneBatch) {
            long cBatch = g.cOff + seg * g.cSegStride;
            long cByte = (cBatch + (long) row * g.ldc + jj) * 4;
            kern.computeInto(aSrc, aOff + ir * kc, bPack, bOff, kc, g.c, cByte, g.ldc * 4L, !first || g.beta != 0f);
            GemmEpilogue ep = last ? g.epilogue : null;
            if (ep != null && g.tileEpilogue) {
                long resByte = ep.residual() == null ? 0
                        : (ep.residualOffset() + (long) row * ep.ldResidual() + epilogueColumn(g, seg, jj)) * 4;
                kern.epilogue(g.c, cByte, g.ldc * 4L, ep.rowBias(), (ep.rowBiasOffset() + row) * 4, ep.residual(), resByte,
                        ep.ldResidual() * 4L, g.clamp, g.clampLo, g.clampHi);
            } else if (ep != null) {
                int ec = epilogueColumn(g, seg, jj);
                F32GemmTileStore.applyEpilogue(g.c, cBatch + jj - ec, g.ldc, row, ec, mr, nr, ep);
            }
            return;
        }
        edgeTile(g, kern, aSrc, aOff + ir * kc, bPack, bOff, tile, row, col, mrHere, nrHere, kc, first, last);
    }

    /**
     * A tile that cannot go straight into C (an edge tile, one spanning batches, or a scaled product): computed
     * into the tile buffer, then merged by {@link F32GemmTileStore}. Kept out of {@link #tile} so that the common
     * path stays small enough for C2 to inline into the loops.
     */
    private static void edgeTile(F32GemmJob g, F32GemmMicrokernel kern, float[] aSrc, int aOff, float[] bPack, int bOff,
            float[] tile, int row, int col, int mrHere, int nrHere, int kc, boolean first, boolean last) {
        int nr = kern.nr;
        if (nrHere <= kern.v) kern.computeNarrow(aSrc, aOff, bPack, bOff, kc, tile);
        else kern.compute(aSrc, aOff, bPack, bOff, kc, tile);
        if (g.segCols == 0) {
            F32GemmTileStore.store(tile, nr, g.c, g.cOff, g.ldc, row, col, mrHere, nrHere,
                    g.alpha, g.beta, first, last, g.epilogue);
            return;
        }
        // store the tile batch by batch (a tile may span several batches when segCols < NR)
        for (int t0 = 0; t0 < nrHere; ) {
            int s = (col + t0) / g.segCols, j = col + t0 - s * g.segCols;
            int run = Math.min(nrHere - t0, g.segCols - j);
            int ec = epilogueColumn(g, s, j);
            F32GemmTileStore.store(tile, t0, nr, g.c, g.cOff + s * g.cSegStride + j - ec, g.ldc, row, ec, mrHere, run,
                    g.alpha, g.beta, first, last, g.epilogue);
            t0 += run;
        }
    }

    /**
     * The column index handed to {@link F32GemmTileStore} for column {@code jj} of batch {@code seg}: the epilogue
     * reads the residual at {@code residualOffset + row·ldResidual + column}, so the batch's residual shift is folded
     * into the column ({@code jj + seg·resSegStride}) and the C offset passed beside it is reduced by the same amount
     * (C is still addressed at {@code cOff + seg·cSegStride + row·ldc + jj}). Column batching allows no column bias,
     * so no other term reads the column. {@link Gemm#sgemmColumnBatched} checks that this fits an int.
     */
    private static int epilogueColumn(F32GemmJob g, int seg, int jj) {
        return (int) (jj + seg * g.resSegStride);
    }
}
