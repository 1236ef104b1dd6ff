package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;

/** Argument validation for {@link Gemm}: every failure is an IllegalArgumentException naming parameter and values. */
final class GemmChecks {
    private GemmChecks() {}

    static void sizes(String op, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": sizes must be >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
    }

    /**
     * Checks a row-major operand stored as rows×cols with leading dimension ld (elements of elemBytes bytes) at
     * element offset off in seg.
     */
    static void matrix(String op, String name, String ldName, MemorySegment seg, long off, int ld, int rows, int cols,
            String storedAs, int elemBytes) {
        matrix(op, name, ldName, seg, off, ld, rows, cols, storedAs, elemBytes, true);
    }

    static void matrix(String op, String name, String ldName, MemorySegment seg, long off, int ld, int rows, int cols,
            String storedAs, int elemBytes, boolean read) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": " + ldName + "=" + ld + " is smaller than max(1, " + cols
                    + "), the row length of " + name + " stored as " + storedAs + " = " + rows + "×" + cols);
        }
        if (rows == 0 || cols == 0 || !read) return;
        if (seg == null) throw new IllegalArgumentException(op + ": segment " + name + " is null but " + name + " is " + rows + "×" + cols);
        if (off < 0) throw new IllegalArgumentException(op + ": " + name + " offset " + off + " is negative");
        long need = (off + (long) (rows - 1) * ld + cols) * elemBytes;
        if (seg.byteSize() < need) {
            throw new IllegalArgumentException(op + ": segment " + name + " has " + seg.byteSize() + " bytes but " + name
                    + " (" + rows + "×" + cols + ", " + ldName + "=" + ld + ", offset " + off + ") needs " + need + " bytes");
        }
    }

    static void vector(String op, String name, MemorySegment seg, long off, int len) {
        if (seg == null || len == 0) return;
        if (off < 0) throw new IllegalArgumentException(op + ": " + name + " offset " + off + " is negative");
        long need = (off + len) * 4L;
        if (seg.byteSize() < need) {
            throw new IllegalArgumentException(op + ": segment " + name + " has " + seg.byteSize() + " bytes but needs "
                    + need + " bytes (" + len + " floats at offset " + off + ")");
        }
    }

    static void operands(String op, boolean transA, boolean transB, int m, int n, int k, MemorySegment a, long aOff,
            int lda, MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc, int elemBytes) {
        sizes(op, m, n, k);
        // A and B are not read when C is empty (quick return, as BLAS): then only their leading dimensions are checked
        boolean read = m > 0 && n > 0;
        matrix(op, "A", "lda", read ? a : MemorySegment.NULL, aOff, lda, transA ? k : m, transA ? m : k,
                transA ? "k×m (transA)" : "m×k", elemBytes, read);
        matrix(op, "B", "ldb", read ? b : MemorySegment.NULL, bOff, ldb, transB ? n : k, transB ? k : n,
                transB ? "n×k (transB)" : "k×n", elemBytes, read);
        matrix(op, "C", "ldc", c, cOff, ldc, m, n, "m×n", elemBytes);
    }

    static void epilogue(String op, GemmEpilogue ep, int m, int n) {
        if (ep == null) return;
        vector(op, "epilogue.rowBias", ep.rowBias(), ep.rowBiasOffset(), m);
        vector(op, "epilogue.colBias", ep.colBias(), ep.colBiasOffset(), n);
        if (ep.residual() != null) {
            matrix(op, "epilogue.residual", "ldResidual", ep.residual(), ep.residualOffset(), ep.ldResidual(), m, n, "m×n", 4);
        }
    }
}
