package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import tessera.kernels.ActivationFn;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;

/**
 * General matrix multiplication {@code C = alpha·op(A)·op(B) + beta·C} on off-heap row-major matrices.
 *
 * <p>Conventions (all entry points): matrices are row-major; offsets and leading dimensions (row strides) are in
 * elements (4 bytes for float, 8 for double); {@code op(A)} is m×k, {@code op(B)} is k×n, C is m×n. With
 * {@code transA} A is stored k×m (so {@code lda ≥ m}), otherwise m×k ({@code lda ≥ k}); likewise B is stored n×k
 * or k×n. When {@code beta == 0} C's previous contents are ignored (NaNs in C do not propagate), as in BLAS.
 * C must not overlap A, B or an epilogue operand. Segments from thread-confined arenas work but run on the calling
 * thread only (the compute pool cannot touch them). Bad sizes, leading dimensions or segments too small throw
 * {@link IllegalArgumentException} naming the parameter and values.
 *
 * <p>float32 runs a packed, cache-blocked, multi-threaded Vector API kernel ({@link F32GemmDriver}) whose
 * microkernel and blocking fit the CPU ({@link #kernelInfo()}); results do
 * not depend on the thread count. Its packing buffers are per-thread Java arrays that only grow ({@link F32GemmScratch}), so
 * steady-state calls allocate nothing.
 * float64 runs the plain-loop reference.
 */
public final class Gemm {
    private Gemm() {}

    /** The last-level (L3) cache of one core's cluster in bytes, from /sys (8 MiB when the system does not say). */
    public static long lastLevelCacheBytes() { return F32GemmConfig.DEFAULT.cpu().l3(); }

    /** One core's L2 cache in bytes, from /sys (1 MiB when the system does not say). */
    public static long l2CacheBytes() { return F32GemmConfig.DEFAULT.cpu().l2(); }

    /** C[m×n] = alpha·op(A)·op(B) + beta·C. Row-major; offsets and leading dimensions in elements; op(A) is m×k. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, null);
    }

    /**
     * The same, with an epilogue applied to each C tile as it is stored (see {@link GemmEpilogue}); a null
     * epilogue means none.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc, GemmEpilogue epilogue) {
        GemmChecks.operands("sgemm", transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, 4);
        GemmChecks.epilogue("sgemm", epilogue, m, n);
        run(F32GemmConfig.DEFAULT, transA, transB, m, n, k, alpha, a, aOffset, lda, null, b, bOffset, ldb, beta, c,
                cOffset, ldc, epilogue);
    }

    /** float64 reference (plain loops), same contract (no epilogue). */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
            double beta, MemorySegment c, long cOffset, int ldc) {
        GemmChecks.operands("dgemm", transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, 8);
        if (m == 0 || n == 0) return;
        GemmReference.dgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /**
     * 2-D tensors (inner stride 1, any row stride): {@code c = alpha·op(a)·op(b) + beta·c}; F32 → {@link #sgemm},
     * F64 → {@link #dgemm}. Shapes: op(a) [m,k], op(b) [k,n], c [m,n]; all three of the same dtype.
     */
    public static void matmul(Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta, Tensor c) {
        if (a == null || b == null || c == null) throw new IllegalArgumentException("matmul: a, b and c must not be null");
        if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
            throw new IllegalArgumentException("matmul: a, b and c must be 2-D, got shapes " + Shapes.str(a.shape()) + ", "
                    + Shapes.str(b.shape()) + ", " + Shapes.str(c.shape()));
        }
        DType t = a.dtype();
        if (b.dtype() != t || c.dtype() != t || (t != DType.F32 && t != DType.F64)) {
            throw new IllegalArgumentException("matmul: a, b and c must share one float dtype (F32 or F64), got "
                    + a.dtype() + ", " + b.dtype() + ", " + c.dtype());
        }
        int m = transA ? a.dim(1) : a.dim(0), k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        if (kb != k || c.dim(0) != m || c.dim(1) != n) {
            throw new IllegalArgumentException("matmul: op(a) is " + m + "×" + k + " (a " + Shapes.str(a.shape())
                    + ", transA=" + transA + "), op(b) is " + kb + "×" + n + " (b " + Shapes.str(b.shape()) + ", transB="
                    + transB + "), so c must be [" + m + ", " + n + "] with matching inner sizes; c is " + Shapes.str(c.shape()));
        }
        int lda = rowStride("a", a), ldb = rowStride("b", b), ldc = rowStride("c", c);
        if (t == DType.F32) {
            sgemm(transA, transB, m, n, k, alpha, a.segment(), a.offset(), lda, b.segment(), b.offset(), ldb,
                    beta, c.segment(), c.offset(), ldc);
        } else {
            dgemm(transA, transB, m, n, k, alpha, a.segment(), a.offset(), lda, b.segment(), b.offset(), ldb,
                    beta, c.segment(), c.offset(), ldc);
        }
    }

    private static int rowStride(String name, Tensor t) {
        int rows = t.dim(0), cols = t.dim(1);
        if (cols > 1 && t.stride(1) != 1) {
            throw new IllegalArgumentException("matmul: " + name + " must have inner stride 1, got strides ["
                    + t.stride(0) + ", " + t.stride(1) + "] for shape " + Shapes.str(t.shape()) + "; call contiguous() first");
        }
        long ld = rows <= 1 ? Math.max(cols, 1) : t.stride(0);
        if (ld < Math.max(cols, 1) || ld > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matmul: " + name + " row stride " + t.stride(0) + " must be in ["
                    + Math.max(cols, 1) + ", " + Integer.MAX_VALUE + "] for shape " + Shapes.str(t.shape()));
        }
        return (int) ld;
    }

    /**
     * Pre-packs a constant A operand (e.g. convolution or linear weights) for repeated products; the copy lives on
     * the Java heap (at most {@link Integer#MAX_VALUE} floats after padding m to a multiple of the tile's rows).
     */
    public static PackedA packA(boolean transA, int m, int k, MemorySegment a, long aOffset, int lda) {
        return packA(F32GemmConfig.DEFAULT, transA, m, k, a, aOffset, lda);
    }

    /**
     * The kernel this JVM's float32 GEMM runs and its cache blocking, one line for tables, e.g.
     * {@code f32-gemm-6x2v-avx512 (512-bit, 32 registers) KC=256 MC=480 NC=4096 (L1d 32 KiB, L2 1024 KiB, L3 32768 KiB)}.
     * Chosen from the CPU (vector width, register count, cache sizes) unless the system properties
     * {@code tessera.gemm.tile} ({@code 6x2v}, or {@code 6x2v-256} for a width), {@code tessera.gemm.kc},
     * {@code tessera.gemm.mc} or {@code tessera.gemm.nc} set it.
     */
    public static String kernelInfo() { return F32GemmConfig.DEFAULT.describe(); }

    /** Vector registers the tile choice counted on: 32 on aarch64 and on x86 with AVX-512 in use by the JVM, else 16. */
    public static int vectorRegisters() { return F32GemmConfig.DEFAULT.cpu().registers(); }

    /**
     * The same, packed into {@code reuse}'s array when it was packed for this JVM's kernel and is large enough (a new
     * array otherwise): for weights that change between products (training) and are packed once per call, without a
     * new array per call. The result shares that array, so {@code reuse} (nullable) must not be used afterwards.
     */
    public static PackedA packA(boolean transA, int m, int k, MemorySegment a, long aOffset, int lda, PackedA reuse) {
        return packA(F32GemmConfig.DEFAULT, transA, m, k, a, aOffset, lda, reuse);
    }

    /** {@link #packA(boolean, int, int, MemorySegment, long, int)} for an explicit kernel and blocking. */
    static PackedA packA(F32GemmConfig cfg, boolean transA, int m, int k, MemorySegment a, long aOffset, int lda) {
        return packA(cfg, transA, m, k, a, aOffset, lda, null);
    }

    private static PackedA packA(F32GemmConfig cfg, boolean transA, int m, int k, MemorySegment a, long aOffset, int lda,
            PackedA reuse) {
        GemmChecks.sizes("packA", m, 0, k);
        GemmChecks.matrix("packA", "A", "lda", a, aOffset, lda, transA ? k : m, transA ? m : k,
                transA ? "k×m (transA)" : "m×k", 4);
        int mr = cfg.kernel().mr, kcBlock = cfg.blocking().kc();
        int mPad = F32GemmBlocking.roundUp(Math.max(m, 1), mr);
        long floats = (long) mPad * k;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("packA: m×k = " + m + "×" + k + " is too large to pack (" + floats
                    + " floats after padding, at most " + (Integer.MAX_VALUE - 16) + ")");
        }
        // every strip is written in full (a short last strip zero-padded), so a reused array needs no clearing
        float[] data = reuse != null && reuse.config == cfg && reuse.data.length >= floats ? reuse.data : new float[(int) floats];
        // the same geometry again (the weights of a training step's layer): reuse itself, no new object
        PackedA p = reuse != null && reuse.data == data && reuse.m == m && reuse.k == k && reuse.mPadded == mPad ? reuse
                : new PackedA(data, m, k, mPad, cfg);
        for (int pc = 0; pc < k; pc += kcBlock) {
            int kc = Math.min(kcBlock, k - pc);
            if (m > 0) F32GemmPacking.packA(transA, a, aOffset, lda, 0, m, pc, kc, mr, data, p.elementOffset(0, pc));
        }
        return p;
    }

    /**
     * Pre-packs a constant B operand: op(B) is k×n ({@code transB}: B is stored n×k, row stride ldb), copied into
     * {@link PackedB}'s layout on the Java heap (at most {@link Integer#MAX_VALUE} floats after padding n to the
     * tile's columns).
     */
    public static PackedB packB(boolean transB, int k, int n, MemorySegment b, long bOffset, int ldb) {
        F32GemmConfig cfg = F32GemmConfig.DEFAULT;
        GemmChecks.sizes("packB", 0, n, k);
        GemmChecks.matrix("packB", "B", "ldb", b, bOffset, ldb, transB ? n : k, transB ? k : n,
                transB ? "n×k (transB)" : "k×n", 4);
        int nr = cfg.kernel().nr;
        long floats = (long) F32GemmBlocking.roundUp(Math.max(n, 1), nr) * k;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("packB: k×n = " + k + "×" + n + " is too large to pack (" + floats
                    + " floats after padding, at most " + (Integer.MAX_VALUE - 16) + ")");
        }
        float[] data = new float[(int) floats];
        // one "panel" of the whole depth: packB's strip layout with kc = k is exactly PackedB's
        if (k > 0 && n > 0) F32GemmPacking.packB(transB, b, bOffset, ldb, 0, k, 0, n, nr, data);
        return new PackedB(data, k, n, cfg);
    }

    /**
     * C[m×n] = op(A)·B (overwritten), then the epilogue (row or column bias, residual, activation; may be null),
     * with a pre-packed B (k×n from {@link PackedB}) read in place. A is m×k ({@code transA}: stored k×m).
     */
    public static void sgemm(boolean transA, int m, MemorySegment a, long aOffset, int lda, PackedB b, MemorySegment c,
            long cOffset, int ldc, GemmEpilogue epilogue) {
        if (b == null) throw new IllegalArgumentException("sgemm: packed B must not be null");
        int n = b.n, k = b.k;
        GemmChecks.sizes("sgemm", m, n, k);
        GemmChecks.matrix("sgemm", "A", "lda", a, aOffset, lda, transA ? k : m, transA ? m : k, transA ? "k×m (transA)" : "m×k", 4);
        GemmChecks.matrix("sgemm", "C", "ldc", c, cOffset, ldc, m, n, "m×n", 4);
        GemmChecks.epilogue("sgemm", epilogue, m, n);
        if (m == 0 || n == 0) return;
        GemmEpilogue ep = epilogue == null || epilogue.isNone() ? null : epilogue;
        if (k == 0) {
            F32GemmTileStore.scaleOnly(m, n, 0f, c, cOffset, ldc, ep);
            return;
        }
        F32GemmJob job = F32GemmJob.acquire();
        job.packedB = b;
        execute(job, b.config, transA, false, m, n, k, 1f, a, aOffset, lda, null, null, 0, n, 0f, c, cOffset, ldc, ep,
                0, 0, 0, 0);
    }

    /** C[m×n] = alpha·A·op(B) + beta·C with a pre-packed A (m×k from {@link PackedA}); epilogue may be null. */
    public static void sgemm(PackedA a, boolean transB, int n, float alpha, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc, GemmEpilogue epilogue) {
        if (a == null) throw new IllegalArgumentException("sgemm: packed A must not be null");
        int m = a.m, k = a.k;
        GemmChecks.sizes("sgemm", m, n, k);
        GemmChecks.matrix("sgemm", "B", "ldb", b, bOffset, ldb, transB ? n : k, transB ? k : n, transB ? "n×k (transB)" : "k×n", 4);
        GemmChecks.matrix("sgemm", "C", "ldc", c, cOffset, ldc, m, n, "m×n", 4);
        GemmChecks.epilogue("sgemm", epilogue, m, n);
        run(a.config, false, transB, m, n, k, alpha, null, 0, 1, a, b, bOffset, ldb, beta, c, cOffset, ldc, epilogue);
    }

    /**
     * Matrix-vector product {@code y[i] = act(alpha·Σ_p W[i][p]·x[p] + bias[i])} for i in [0, rows) (f32-gemv-4r):
     * a fully connected layer at batch 1. W is rows×k row-major with row stride {@code ldw} (≥ k), x holds k floats,
     * y rows floats, bias rows floats or null; offsets in float elements; act null means identity. W is read once,
     * unpacked (a GEMM would pack it on every call); rows are split over the compute pool.
     */
    public static void sgemv(int rows, int k, float alpha, MemorySegment w, long wOffset, int ldw, MemorySegment x,
            long xOffset, MemorySegment bias, long biasOffset, ActivationFn act, MemorySegment y, long yOffset) {
        if (w == null || x == null || y == null) throw new IllegalArgumentException("sgemv: W, x and y must not be null");
        GemmChecks.sizes("sgemv", rows, 1, k);
        GemmChecks.matrix("sgemv", "W", "ldw", w, wOffset, ldw, rows, k, "rows×k", 4);
        GemmChecks.vector("sgemv", "x", x, xOffset, k);
        GemmChecks.vector("sgemv", "y", y, yOffset, rows);
        GemmChecks.vector("sgemv", "bias", bias, biasOffset, rows);
        if (rows == 0) return;
        F32Gemv.run(rows, k, alpha, w, wOffset, ldw, x, xOffset, bias, biasOffset,
                act == null ? ActivationFn.identity() : act, y, yOffset);
    }

    /**
     * Column-batched product with a pre-packed A, run as ONE product of {@code batches·cols} columns (one blocking and
     * one thread split over all of them): for s in [0, batches),
     * {@code C_s[m×cols] = alpha·A·B_s + beta·C_s}, then the epilogue, where B_s is the row-major k×cols matrix (row
     * stride ldb) at {@code bOffset + s·bBatchStride}, C_s the m×cols matrix (row stride ldc) at
     * {@code cOffset + s·cBatchStride} and the epilogue's residual R_s at {@code residualOffset + s·residualBatchStride}
     * (offsets and strides in float elements). This is how a convolution folds its batch into the GEMM's N: image s
     * of an NCHW tensor is B_s, its output C_s. The epilogue may have a row bias, a residual and an activation, not a
     * column bias.
     */
    public static void sgemmColumnBatched(PackedA a, int batches, int cols, float alpha, MemorySegment b, long bOffset,
            int ldb, long bBatchStride, float beta, MemorySegment c, long cOffset, int ldc, long cBatchStride,
            GemmEpilogue epilogue, long residualBatchStride) {
        if (a == null) throw new IllegalArgumentException("sgemmColumnBatched: packed A must not be null");
        if (batches < 1) throw new IllegalArgumentException("sgemmColumnBatched: batches must be >= 1, got " + batches);
        if (batches == 1) {
            sgemm(a, false, cols, alpha, b, bOffset, ldb, beta, c, cOffset, ldc, epilogue);
            return;
        }
        int m = a.m, k = a.k;
        long n = (long) batches * cols;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sgemmColumnBatched: batches·cols = " + batches + "·" + cols + " exceeds " + Integer.MAX_VALUE);
        }
        GemmChecks.sizes("sgemmColumnBatched", m, (int) n, k);
        if (bBatchStride < 0 || cBatchStride < 0 || residualBatchStride < 0) {
            throw new IllegalArgumentException("sgemmColumnBatched: batch strides must be >= 0, got B " + bBatchStride
                    + ", C " + cBatchStride + ", residual " + residualBatchStride);
        }
        long lastB = bOffset + (batches - 1) * bBatchStride, lastC = cOffset + (batches - 1) * cBatchStride;
        GemmChecks.matrix("sgemmColumnBatched", "B", "ldb", b, bOffset, ldb, k, cols, "k×cols", 4);
        GemmChecks.matrix("sgemmColumnBatched", "B of the last batch", "ldb", b, lastB, ldb, k, cols, "k×cols", 4);
        GemmChecks.matrix("sgemmColumnBatched", "C", "ldc", c, cOffset, ldc, m, cols, "m×cols", 4);
        GemmChecks.matrix("sgemmColumnBatched", "C of the last batch", "ldc", c, lastC, ldc, m, cols, "m×cols", 4);
        GemmEpilogue ep = epilogue == null || epilogue.isNone() ? null : epilogue;
        if (ep != null) {
            if (ep.colBias() != null) throw new IllegalArgumentException("sgemmColumnBatched: a column bias is not supported; use a row bias");
            GemmChecks.epilogue("sgemmColumnBatched", ep, m, cols);
            if (ep.residual() != null) {
                GemmChecks.matrix("sgemmColumnBatched", "epilogue.residual", "ldResidual", ep.residual(),
                        ep.residualOffset() + (batches - 1) * residualBatchStride, ep.ldResidual(), m, cols, "m×cols (last batch)", 4);
                if (cols + (batches - 1) * residualBatchStride > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("sgemmColumnBatched: residual batch stride " + residualBatchStride
                            + " × " + (batches - 1) + " batches exceeds the int column range of the epilogue");
                }
            }
        }
        if (k == 0 || alpha == 0f) {
            for (int s = 0; s < batches; s++) {
                GemmEpilogue es = ep == null || ep.residual() == null ? ep
                        : ep.withResidual(ep.residual(), ep.residualOffset() + s * residualBatchStride, ep.ldResidual());
                F32GemmTileStore.scaleOnly(m, cols, beta, c, cOffset + s * cBatchStride, ldc, es);
            }
            return;
        }
        execute(a.config, false, false, m, (int) n, k, alpha, null, 0, 1, a, b, bOffset, ldb, beta, c, cOffset, ldc, ep,
                cols, bBatchStride, cBatchStride, ep == null || ep.residual() == null ? 0 : residualBatchStride);
    }

    /**
     * {@code C_s = act(A·B_s + bias + R_s)} for s in [0, batches) with B supplied panel by panel by {@code b} (logical
     * columns j = s·cols + jj, B's k = A's k): C_s is the m×cols matrix (row stride ldc) at
     * {@code cOffset + s·cBatchStride} and the epilogue (row bias, residual, activation; no column bias) as in
     * {@link #sgemmColumnBatched}. A convolution passes its im2col operand this way, written straight into the
     * packed panels ({@link PackedBSource}).
     */
    public static void sgemmPackedSource(PackedA a, int batches, int cols, PackedBSource b, MemorySegment c, long cOffset,
            int ldc, long cBatchStride, GemmEpilogue epilogue, long residualBatchStride) {
        if (a == null || b == null) throw new IllegalArgumentException("sgemmPackedSource: packed A and the B source must not be null");
        if (batches < 1) throw new IllegalArgumentException("sgemmPackedSource: batches must be >= 1, got " + batches);
        int m = a.m, k = a.k;
        long n = (long) batches * cols;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sgemmPackedSource: batches·cols = " + batches + "·" + cols + " exceeds " + Integer.MAX_VALUE);
        }
        GemmChecks.sizes("sgemmPackedSource", m, (int) n, k);
        if (cBatchStride < 0 || residualBatchStride < 0) {
            throw new IllegalArgumentException("sgemmPackedSource: batch strides must be >= 0, got C " + cBatchStride
                    + ", residual " + residualBatchStride);
        }
        GemmChecks.matrix("sgemmPackedSource", "C", "ldc", c, cOffset, ldc, m, cols, "m×cols", 4);
        GemmChecks.matrix("sgemmPackedSource", "C of the last batch", "ldc", c, cOffset + (batches - 1) * cBatchStride, ldc,
                m, cols, "m×cols", 4);
        GemmEpilogue ep = epilogue == null || epilogue.isNone() ? null : epilogue;
        if (ep != null) {
            if (ep.colBias() != null) throw new IllegalArgumentException("sgemmPackedSource: a column bias is not supported; use a row bias");
            GemmChecks.epilogue("sgemmPackedSource", ep, m, cols);
            if (ep.residual() != null) {
                GemmChecks.matrix("sgemmPackedSource", "epilogue.residual", "ldResidual", ep.residual(),
                        ep.residualOffset() + (batches - 1) * residualBatchStride, ep.ldResidual(), m, cols, "m×cols (last batch)", 4);
                if (cols + (batches - 1) * residualBatchStride > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("sgemmPackedSource: residual batch stride " + residualBatchStride
                            + " × " + (batches - 1) + " batches exceeds the int column range of the epilogue");
                }
            }
        }
        if (n == 0 || m == 0) return;
        if (k == 0) {
            for (int s = 0; s < batches; s++) {
                GemmEpilogue es = ep == null || ep.residual() == null ? ep
                        : ep.withResidual(ep.residual(), ep.residualOffset() + s * residualBatchStride, ep.ldResidual());
                F32GemmTileStore.scaleOnly(m, cols, 0f, c, cOffset + s * cBatchStride, ldc, es);
            }
            return;
        }
        F32GemmJob job = F32GemmJob.acquire();
        job.bSource = b;
        execute(job, a.config, false, false, m, (int) n, k, 1f, null, 0, 1, a, null, 0, cols, 0f, c, cOffset, ldc, ep,
                cols, 0, cBatchStride, ep == null || ep.residual() == null ? 0 : residualBatchStride);
    }

    /** The float32 product with an explicit kernel and blocking; operands already validated (tests use it directly). */
    static void run(F32GemmConfig cfg, boolean transA, boolean transB, int m, int n, int k, float alpha,
            MemorySegment a, long aOffset, int lda, PackedA packed, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc, GemmEpilogue epilogue) {
        if (m == 0 || n == 0) return;
        GemmEpilogue ep = epilogue == null || epilogue.isNone() ? null : epilogue;
        if (k == 0 || alpha == 0f) {
            F32GemmTileStore.scaleOnly(m, n, beta, c, cOffset, ldc, ep);
            return;
        }
        execute(cfg, transA, transB, m, n, k, alpha, a, aOffset, lda, packed, b, bOffset, ldb, beta, c, cOffset, ldc, ep,
                0, 0, 0, 0);
    }

    /** Hands a validated, non-degenerate product to the driver through the calling thread's reusable job. */
    private static void execute(F32GemmConfig cfg, boolean transA, boolean transB, int m, int n, int k, float alpha,
            MemorySegment a, long aOffset, int lda, PackedA packed, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc, GemmEpilogue ep,
            int segCols, long bSegStride, long cSegStride, long resSegStride) {
        execute(F32GemmJob.acquire(), cfg, transA, transB, m, n, k, alpha, a, aOffset, lda, packed, b, bOffset, ldb, beta,
                c, cOffset, ldc, ep, segCols, bSegStride, cSegStride, resSegStride);
    }

    /** As above on an acquired job (which may already carry a {@link PackedBSource}); releases it. */
    private static void execute(F32GemmJob job, F32GemmConfig cfg, boolean transA, boolean transB, int m, int n, int k,
            float alpha, MemorySegment a, long aOffset, int lda, PackedA packed, MemorySegment b, long bOffset, int ldb,
            float beta, MemorySegment c, long cOffset, int ldc, GemmEpilogue ep,
            int segCols, long bSegStride, long cSegStride, long resSegStride) {
        try {
            job.transA = transA;
            job.transB = transB;
            job.m = m;
            job.n = n;
            job.k = k;
            job.alpha = alpha;
            job.beta = beta;
            job.a = a;
            job.aOff = aOffset;
            job.lda = lda;
            job.packed = packed;
            job.b = b;
            job.bOff = bOffset;
            job.ldb = ldb;
            job.c = c;
            job.cOff = cOffset;
            job.ldc = ldc;
            job.setEpilogue(ep);
            job.config = cfg;
            job.segCols = segCols;
            job.bSegStride = bSegStride;
            job.cSegStride = cSegStride;
            job.resSegStride = resSegStride;
            F32GemmDriver.run(job);
        } finally {
            job.release();
        }
    }
}
