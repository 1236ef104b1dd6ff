package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies blocks of A and B (off-heap, row-major, offsets and leading dimensions in float elements) into the
 * contiguous, zero-padded micro-panel layouts the microkernel streams through (Java arrays).
 */
final class F32GemmPacking {
    private F32GemmPacking() {}

    private static final VectorSpecies<Float> S = F32GemmMicrokernel4x2v.S;
    private static final int V = F32GemmMicrokernel4x2v.V;
    private static final int MR = F32GemmMicrokernel4x2v.MR;
    private static final int NR = F32GemmMicrokernel4x2v.NR;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Packs op(B)[pc..pc+kc) × [jc..jc+nc) into strips of NR columns: {@code dst[s·NR·kc + p·NR + c]}, padding
     * columns past nc with zeros.
     */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc, float[] dst) {
        for (int s = 0; s * NR < nc; s++) {
            int cols = Math.min(NR, nc - s * NR);
            int d = s * NR * kc;
            if (transB) {
                packBTransposedStrip(b, bOff + (long) (jc + s * NR) * ldb + pc, ldb, kc, cols, dst, d);
            } else {
                packBStrip(b, bOff + (long) pc * ldb + jc + s * NR, ldb, kc, cols, dst, d);
            }
        }
    }

    /** B row-major k×n: each k step copies one row fragment of {@code cols} contiguous floats (two vectors). */
    private static void packBStrip(MemorySegment b, long src, int ldb, int kc, int cols, float[] dst, int d) {
        if (cols == NR) {
            for (int p = 0; p < kc; p++, d += NR) {
                long s = (src + (long) p * ldb) * 4;
                FloatVector.fromMemorySegment(S, b, s, NO).intoArray(dst, d);
                FloatVector.fromMemorySegment(S, b, s + V * 4L, NO).intoArray(dst, d + V);
            }
        } else {
            VectorMask<Float> m0 = S.indexInRange(0, cols);
            VectorMask<Float> m1 = S.indexInRange(V, cols);
            for (int p = 0; p < kc; p++, d += NR) {
                long s = (src + (long) p * ldb) * 4;
                FloatVector.fromMemorySegment(S, b, s, NO, m0).intoArray(dst, d);
                FloatVector.fromMemorySegment(S, b, s + V * 4L, NO, m1).intoArray(dst, d + V);
            }
        }
    }

    /** B stored n×k (op(B) = Bᵀ): column c of the strip is a contiguous run of kc floats in row c of B. */
    private static void packBTransposedStrip(MemorySegment b, long src, int ldb, int kc, int cols, float[] dst, int d) {
        for (int c = 0; c < cols; c++) {
            long s = (src + (long) c * ldb) * 4;
            for (int p = 0, o = d + c; p < kc; p++, o += NR) dst[o] = b.get(F, s + p * 4L);
        }
        for (int c = cols; c < NR; c++) {
            for (int p = 0, o = d + c; p < kc; p++, o += NR) dst[o] = 0f;
        }
    }

    /**
     * Packs op(A)[ic..ic+mc) × [pc..pc+kc) into strips of MR rows: {@code dst[dstOff + s·MR·kc + p·MR + r]},
     * padding rows past mc with zeros.
     */
    static void packA(boolean transA, MemorySegment a, long aOff, int lda, int ic, int mc, int pc, int kc,
            float[] dst, int dstOff) {
        for (int s = 0; s * MR < mc; s++) {
            int rows = Math.min(MR, mc - s * MR);
            int d = dstOff + s * MR * kc;
            int i = ic + s * MR;
            if (transA) {
                packATransposedStrip(a, aOff + (long) pc * lda + i, lda, kc, rows, dst, d);
            } else if (rows == MR) {
                packAFullStrip(a, aOff + (long) i * lda + pc, lda, kc, dst, d);
            } else {
                packAStrip(a, aOff + (long) i * lda + pc, lda, kc, rows, dst, d);
            }
        }
    }

    /** A row-major m×k, a full strip of MR = 4 rows: interleaves four contiguous runs of kc floats. */
    private static void packAFullStrip(MemorySegment a, long src, int lda, int kc, float[] dst, int d) {
        long s0 = src * 4, s1 = (src + lda) * 4, s2 = (src + 2L * lda) * 4, s3 = (src + 3L * lda) * 4;
        for (int p = 0; p < kc; p++, d += MR) {
            long o = p * 4L;
            dst[d] = a.get(F, s0 + o);
            dst[d + 1] = a.get(F, s1 + o);
            dst[d + 2] = a.get(F, s2 + o);
            dst[d + 3] = a.get(F, s3 + o);
        }
    }

    /** A row-major m×k, a partial strip: row r is a contiguous run of kc floats; rows past {@code rows} are 0. */
    private static void packAStrip(MemorySegment a, long src, int lda, int kc, int rows, float[] dst, int d) {
        Arrays.fill(dst, d, d + MR * kc, 0f);
        for (int r = 0; r < rows; r++) {
            long s = (src + (long) r * lda) * 4;
            for (int p = 0, o = d + r; p < kc; p++, o += MR) dst[o] = a.get(F, s + p * 4L);
        }
    }

    /** A stored k×m (op(A) = Aᵀ): each k step reads MR contiguous floats. */
    private static void packATransposedStrip(MemorySegment a, long src, int lda, int kc, int rows, float[] dst, int d) {
        for (int p = 0; p < kc; p++, d += MR) {
            long s = (src + (long) p * lda) * 4;
            int r = 0;
            for (; r < rows; r++) dst[d + r] = a.get(F, s + r * 4L);
            for (; r < MR; r++) dst[d + r] = 0f;
        }
    }
}
