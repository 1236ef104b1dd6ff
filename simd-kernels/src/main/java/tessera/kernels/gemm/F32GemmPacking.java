package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import tessera.kernels.layout.F32Copy;
import tessera.kernels.layout.F32Transpose;

/**
 * Copies blocks of A and B (off-heap, row-major, offsets and leading dimensions in float elements) into the
 * contiguous, zero-padded micro-panel layouts of {@link F32GemmMicrokernel} (Java arrays). MR and NR are the tile's;
 * the copies ({@link F32Copy}) use the kernels' species whatever the tile's.
 */
final class F32GemmPacking {
    private F32GemmPacking() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Packs op(B)[pc..pc+kc) × [jc..jc+nc) into strips of NR columns: {@code dst[s·NR·kc + p·NR + c]}, padding
     * columns past nc with zeros.
     */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc, int nr,
            float[] dst) {
        packB(transB, b, bOff, ldb, pc, kc, jc, nc, nr, dst, null);
    }

    /** As above; {@code dstHeap} is dst as a segment (null: made here), reused by per-call packing to allocate nothing. */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc, int nr,
            float[] dst, MemorySegment dstHeap) {
        if (!transB) {
            packBRows(b, bOff + (long) pc * ldb + jc, ldb, kc, nc, nr, dst);
            return;
        }
        MemorySegment heap = dstHeap != null ? dstHeap : MemorySegment.ofArray(dst);
        for (int s = 0; s * nr < nc; s++) {
            int cols = Math.min(nr, nc - s * nr);
            packBTransposedStrip(b, bOff + (long) (jc + s * nr) * ldb + pc, ldb, kc, cols, nr, dst, heap, s * nr * kc);
        }
    }

    /**
     * B row-major k×n, read row by row (each k step is one contiguous run of nc floats, which the hardware prefetcher
     * follows; walking a strip down its column would stride by ldb): row p's floats [s·NR, s·NR + NR) go to
     * {@code dst[s·NR·kc + p·NR ..]}; the last strip is zero-padded to NR.
     */
    private static void packBRows(MemorySegment b, long src, int ldb, int kc, int nc, int nr, float[] dst) {
        int strips = (nc + nr - 1) / nr, stripStride = nr * kc;
        for (int p = 0; p < kc; p++) {
            long row = (src + (long) p * ldb) * 4;
            for (int s = 0, d = p * nr; s < strips; s++, d += stripStride) {
                copyPadded(b, row + (long) s * nr * 4, Math.min(nr, nc - s * nr), nr, dst, d);
            }
        }
    }

    /**
     * Column-batched B (see {@link F32GemmJob#segCols}): logical columns [jc, jc+nc) of rows [pc, pc+kc), where column
     * j is column {@code j % segCols} of the row-major k×segCols matrix at {@code bOff + (j / segCols)·bSegStride};
     * packed like {@link #packBRows} (strips may take columns from several batches), the last strip zero-padded.
     */
    static void packBSegmented(MemorySegment b, long bOff, int ldb, int segCols, long bSegStride, int pc, int kc,
            int jc, int nc, int nr, float[] dst) {
        int strips = (nc + nr - 1) / nr, stripStride = nr * kc;
        int seg0 = jc / segCols, jj0 = jc - seg0 * segCols;
        for (int p = 0; p < kc; p++) {
            long rowOff = bOff + (long) (pc + p) * ldb;
            // the strip's batch and column advance incrementally (a division per strip and row cost as much as the copy)
            int seg = seg0, jj = jj0;
            for (int s = 0, d = p * nr; s < strips; s++, d += stripStride) {
                int cols = Math.min(nr, nc - s * nr);
                if (cols == nr && jj + nr <= segCols) {
                    F32Copy.toArray(b, (rowOff + seg * bSegStride + jj) * 4, dst, d, nr);
                } else {
                    copySpanning(b, rowOff, segCols, bSegStride, jc + s * nr, cols, nr, dst, d);
                }
                jj += nr;
                while (jj >= segCols) {
                    jj -= segCols;
                    seg++;
                }
            }
        }
    }

    /** One strip row whose columns cross a batch boundary or end the panel: run by run, zero-padded to {@code nr}. */
    private static void copySpanning(MemorySegment b, long rowOff, int segCols, long bSegStride, int col, int cols, int nr,
            float[] dst, int d) {
        int done = 0;
        while (done < cols) {
            int seg = (col + done) / segCols, jj = (col + done) - seg * segCols;
            int run = Math.min(cols - done, segCols - jj);
            F32Copy.toArray(b, (rowOff + seg * bSegStride + jj) * 4, dst, d + done, run);
            done += run;
        }
        if (cols < nr) Arrays.fill(dst, d + cols, d + nr, 0f);
    }

    /** {@code cols} floats from byte offset {@code sb} to {@code dst[d..]}, then zeros up to {@code nr}. */
    private static void copyPadded(MemorySegment b, long sb, int cols, int nr, float[] dst, int d) {
        F32Copy.toArray(b, sb, dst, d, cols);
        Arrays.fill(dst, d + cols, d + nr, 0f);
    }

    /** B stored n×k (op(B) = Bᵀ): column c of the strip is a contiguous run of kc floats in row c of B. */
    private static void packBTransposedStrip(MemorySegment b, long src, int ldb, int kc, int cols, int nr,
            float[] dst, MemorySegment dstHeap, int d) {
        // the strip is a transpose of B's cols×kc block: register-tile transposes (a scalar walk down the strip's
        // columns was most of a weight-gradient GEMM with few output channels, e.g. ResNet's 64-channel layers)
        F32Transpose.transpose(b, src, ldb, dstHeap, d, nr, cols, kc);
        for (int c = cols; c < nr; c++) {
            for (int p = 0, o = d + c; p < kc; p++, o += nr) dst[o] = 0f;
        }
    }

    /**
     * Packs op(A)[ic..ic+mc) × [pc..pc+kc) into strips of MR rows: {@code dst[dstOff + s·MR·kc + p·MR + r]},
     * padding rows past mc with zeros.
     */
    static void packA(boolean transA, MemorySegment a, long aOff, int lda, int ic, int mc, int pc, int kc, int mr,
            float[] dst, int dstOff) {
        float[] row = transA ? null : F32GemmScratch.ofCurrentThread().row(kc);
        for (int s = 0; s * mr < mc; s++) {
            int rows = Math.min(mr, mc - s * mr);
            int d = dstOff + s * mr * kc;
            int i = ic + s * mr;
            if (transA) {
                packATransposedStrip(a, aOff + (long) pc * lda + i, lda, kc, rows, mr, dst, d);
            } else {
                packAStrip(a, aOff + (long) i * lda + pc, lda, kc, rows, mr, dst, d, row);
            }
        }
    }

    /**
     * A row-major m×k: row r is a contiguous run of kc floats, bulk-copied into {@code row} (a per-thread buffer of
     * at least kc floats) and written every MR floats; rows past {@code rows} are 0.
     */
    private static void packAStrip(MemorySegment a, long src, int lda, int kc, int rows, int mr, float[] dst, int d,
            float[] row) {
        if (rows < mr) Arrays.fill(dst, d, d + mr * kc, 0f);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(a, F, (src + (long) r * lda) * 4, row, 0, kc);
            for (int p = 0, o = d + r; p < kc; p++, o += mr) dst[o] = row[p];
        }
    }

    /** A stored k×m (op(A) = Aᵀ): each k step reads MR contiguous floats. */
    private static void packATransposedStrip(MemorySegment a, long src, int lda, int kc, int rows, int mr,
            float[] dst, int d) {
        for (int p = 0; p < kc; p++, d += mr) {
            long s = (src + (long) p * lda) * 4;
            int r = 0;
            for (; r < rows; r++) dst[d + r] = a.get(F, s + r * 4L);
            for (; r < mr; r++) dst[d + r] = 0f;
        }
    }
}
