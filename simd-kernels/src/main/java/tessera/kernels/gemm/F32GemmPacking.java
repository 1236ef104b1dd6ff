package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies blocks of A and B into the contiguous, zero-padded micro-panel layouts the microkernel streams through.
 * All offsets and leading dimensions are in float elements.
 */
final class F32GemmPacking {
    private F32GemmPacking() {}

    private static final VectorSpecies<Float> S = F32GemmMicrokernel6x2v.S;
    private static final int V = F32GemmMicrokernel6x2v.V;
    private static final int MR = F32GemmMicrokernel6x2v.MR;
    private static final int NR = F32GemmMicrokernel6x2v.NR;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Packs op(B)[pc..pc+kc) × [jc..jc+nc) into strips of NR columns: {@code dst[s·NR·kc + p·NR + c]}, padding
     * columns past nc with zeros.
     */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc, MemorySegment dst) {
        for (int s = 0; s * NR < nc; s++) {
            int cols = Math.min(NR, nc - s * NR);
            long dstByte = (long) s * NR * kc * 4;
            if (transB) {
                packBTransposedStrip(b, bOff + (long) (jc + s * NR) * ldb + pc, ldb, kc, cols, dst, dstByte);
            } else {
                packBStrip(b, bOff + (long) pc * ldb + jc + s * NR, ldb, kc, cols, dst, dstByte);
            }
        }
    }

    /** B row-major k×n: each k step copies one row fragment of {@code cols} contiguous floats (two vectors). */
    private static void packBStrip(MemorySegment b, long src, int ldb, int kc, int cols, MemorySegment dst, long dstByte) {
        if (cols == NR) {
            for (int p = 0; p < kc; p++) {
                long s = (src + (long) p * ldb) * 4;
                long d = dstByte + (long) p * NR * 4;
                FloatVector.fromMemorySegment(S, b, s, NO).intoMemorySegment(dst, d, NO);
                FloatVector.fromMemorySegment(S, b, s + V * 4L, NO).intoMemorySegment(dst, d + V * 4L, NO);
            }
        } else {
            VectorMask<Float> m0 = S.indexInRange(0, cols);
            VectorMask<Float> m1 = S.indexInRange(V, cols);
            for (int p = 0; p < kc; p++) {
                long s = (src + (long) p * ldb) * 4;
                long d = dstByte + (long) p * NR * 4;
                FloatVector.fromMemorySegment(S, b, s, NO, m0).intoMemorySegment(dst, d, NO);
                FloatVector.fromMemorySegment(S, b, s + V * 4L, NO, m1).intoMemorySegment(dst, d + V * 4L, NO);
            }
        }
    }

    /** B stored n×k (op(B) = Bᵀ): column c of the strip is a contiguous run of kc floats in row c of B. */
    private static void packBTransposedStrip(MemorySegment b, long src, int ldb, int kc, int cols, MemorySegment dst, long dstByte) {
        for (int c = 0; c < cols; c++) {
            long s = (src + (long) c * ldb) * 4;
            long d = dstByte + c * 4L;
            for (int p = 0; p < kc; p++) dst.set(F, d + (long) p * NR * 4, b.get(F, s + p * 4L));
        }
        for (int c = cols; c < NR; c++) {
            long d = dstByte + c * 4L;
            for (int p = 0; p < kc; p++) dst.set(F, d + (long) p * NR * 4, 0f);
        }
    }

    /**
     * Packs op(A)[ic..ic+mc) × [pc..pc+kc) into strips of MR rows: {@code dst[dstOff + s·MR·kc + p·MR + r]},
     * padding rows past mc with zeros.
     */
    static void packA(boolean transA, MemorySegment a, long aOff, int lda, int ic, int mc, int pc, int kc,
            MemorySegment dst, long dstOff) {
        for (int s = 0; s * MR < mc; s++) {
            int rows = Math.min(MR, mc - s * MR);
            long d = (dstOff + (long) s * MR * kc) * 4;
            int i = ic + s * MR;
            if (transA) {
                packATransposedStrip(a, aOff + (long) pc * lda + i, lda, kc, rows, dst, d);
            } else {
                packAStrip(a, aOff + (long) i * lda + pc, lda, kc, rows, dst, d);
            }
        }
    }

    /** A row-major m×k: row r of the strip is a contiguous run of kc floats. */
    private static void packAStrip(MemorySegment a, long src, int lda, int kc, int rows, MemorySegment dst, long dByte) {
        for (int r = 0; r < rows; r++) {
            long s = (src + (long) r * lda) * 4;
            long d = dByte + r * 4L;
            for (int p = 0; p < kc; p++) dst.set(F, d + (long) p * MR * 4, a.get(F, s + p * 4L));
        }
        for (int r = rows; r < MR; r++) {
            long d = dByte + r * 4L;
            for (int p = 0; p < kc; p++) dst.set(F, d + (long) p * MR * 4, 0f);
        }
    }

    /** A stored k×m (op(A) = Aᵀ): each k step reads MR contiguous floats. */
    private static void packATransposedStrip(MemorySegment a, long src, int lda, int kc, int rows, MemorySegment dst, long dByte) {
        for (int p = 0; p < kc; p++) {
            long s = (src + (long) p * lda) * 4;
            long d = dByte + (long) p * MR * 4;
            int r = 0;
            for (; r < rows; r++) dst.set(F, d + r * 4L, a.get(F, s + r * 4L));
            for (; r < MR; r++) dst.set(F, d + r * 4L, 0f);
        }
    }
}
