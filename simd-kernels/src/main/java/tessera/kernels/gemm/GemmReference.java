package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The float64 reference GEMM: plain loops that read like the formula. The test oracle and the F64 path. */
final class GemmReference {
    private GemmReference() {}

    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    /** C[i][j] = alpha·Σ_p op(A)[i][p]·op(B)[p][j] + beta·C[i][j]; beta = 0 ignores C's old values. */
    static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
            double beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double aip = a.getAtIndex(D, aOff + (transA ? (long) p * lda + i : (long) i * lda + p));
                    double bpj = b.getAtIndex(D, bOff + (transB ? (long) j * ldb + p : (long) p * ldb + j));
                    sum += aip * bpj;
                }
                long ci = cOff + (long) i * ldc + j;
                double old = beta == 0 ? 0 : beta * c.getAtIndex(D, ci);
                c.setAtIndex(D, ci, alpha * sum + old);
            }
        }
    }
}
