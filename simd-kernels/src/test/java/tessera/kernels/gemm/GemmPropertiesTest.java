package tessera.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static tessera.kernels.gemm.GemmTestSupport.D;
import static tessera.kernels.gemm.GemmTestSupport.F;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import tessera.kernels.Activation;
import tessera.kernels.ComputePool;

/**
 * sgemm against the float64 dgemm oracle over random shapes, transposes, alpha/beta, leading-dimension padding and
 * offsets. Tolerance per element: {@link GemmTestSupport#tolerance} = 2·(k+6)·2⁻²⁴·M + 1e-6 with
 * M = |alpha|·Σ|a||b| + |beta·c| (+ |bias| + |residual|), i.e. linear in k.
 */
class GemmPropertiesTest {
    private static final float[] ALPHAS = {1f, -0.5f, 2.25f, 1f};
    private static final float[] BETAS = {0f, 1f, -1.5f, 0.5f};

    /**
     * One random case: bits of {@code cfg} choose transA, transB, alpha, beta, lda/ldb/ldc padding and offsets;
     * the data come from {@code cfg} as seed.
     */
    static void checkCase(int m, int n, int k, int cfg, GemmEpilogueSpec epi) {
        checkCase(null, m, n, k, cfg, epi);
    }

    /** The same through an explicit kernel and blocking ({@code config} null: the JVM's default via sgemm). */
    static void checkCase(F32GemmConfig config, int m, int n, int k, int cfg, GemmEpilogueSpec epi) {
        boolean transA = (cfg & 1) != 0, transB = (cfg & 2) != 0;
        float alpha = ALPHAS[(cfg >>> 2) & 3], beta = BETAS[(cfg >>> 4) & 3];
        int padA = (cfg >>> 6) & 3, padB = (cfg >>> 8) & 3, padC = (cfg >>> 10) & 3;
        long offA = (cfg >>> 12) & 7, offB = (cfg >>> 15) & 7, offC = (cfg >>> 18) & 7;
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        long aLen = offA + (long) (transA ? k : m) * lda, bLen = offB + (long) (transB ? n : k) * ldb;
        long cLen = offC + (long) m * ldc;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = GemmTestSupport.randomFloats(arena, aLen, cfg * 31L + 1);
            MemorySegment b = GemmTestSupport.randomFloats(arena, bLen, cfg * 31L + 2);
            MemorySegment c0 = GemmTestSupport.randomFloats(arena, cLen, cfg * 31L + 3);
            MemorySegment c = GemmTestSupport.copy(arena, c0);
            GemmEpilogue ep = epi == null ? null : epi.build(arena, m, n, cfg);
            if (config == null) {
                Gemm.sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, ep);
            } else {
                Gemm.run(config, transA, transB, m, n, k, alpha, a, offA, lda, null, b, offB, ldb, beta, c, offC, ldc, ep);
            }

            MemorySegment cd = GemmTestSupport.toDoubles(arena, c0, false);
            Gemm.dgemm(transA, transB, m, n, k, alpha, GemmTestSupport.toDoubles(arena, a, false), offA, lda,
                    GemmTestSupport.toDoubles(arena, b, false), offB, ldb, beta, cd, offC, ldc);
            MemorySegment mag = GemmTestSupport.toDoubles(arena, c0, true);
            Gemm.dgemm(transA, transB, m, n, k, Math.abs(alpha), GemmTestSupport.toDoubles(arena, a, true), offA, lda,
                    GemmTestSupport.toDoubles(arena, b, true), offB, ldb, Math.abs(beta), mag, offC, ldc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    long e = offC + (long) i * ldc + j;
                    double want = cd.getAtIndex(D, e), magnitude = mag.getAtIndex(D, e);
                    if (ep != null) {
                        double extra = epi.extra(ep, i, j);
                        magnitude += epi.extraMagnitude(ep, i, j);
                        want = GemmTestSupport.activation(ep.fn(), want + extra);
                    }
                    double got = c.getAtIndex(F, e), tol = GemmTestSupport.tolerance(k, magnitude);
                    if (!(Math.abs(got - want) <= tol)) {
                        throw new AssertionError("C[" + i + "][" + j + "] = " + got + ", float64 reference " + want
                                + ", |diff| " + Math.abs(got - want) + " > tol " + tol + " (m=" + m + " n=" + n + " k=" + k
                                + " transA=" + transA + " transB=" + transB + " alpha=" + alpha + " beta=" + beta
                                + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + (config == null ? "" : " config=" + config.describe())
                                + (ep == null ? "" : " epilogue=" + ep) + ")");
                    }
                }
            }
            // nothing outside the m×n window of C is written (padding columns and the offset prefix keep their values)
            for (long e = 0; e < cLen; e++) {
                long rel = e - offC;
                boolean inside = rel >= 0 && rel % ldc < n;
                if (!inside) assertEquals(c0.getAtIndex(F, e), c.getAtIndex(F, e), "C element " + e + " outside the window changed");
            }
        }
    }

    @Test
    void smallShapesAllTransposesAlphaBetaStrides() {
        qt().withExamples(250).forAll(integers().between(1, 40), integers().between(1, 40), integers().between(1, 40),
                integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, cfg) -> checkCase(m, n, k, cfg, null));
    }

    @Test
    void deepReductionCrossesSeveralKBlocks() {
        qt().withExamples(40).forAll(integers().between(1, 20), integers().between(1, 40), integers().between(200, 800),
                integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, cfg) -> checkCase(m, n, k, cfg, null));
    }

    @Test
    void tallShapesCrossTheRowBlock() {
        qt().withExamples(12).forAll(integers().between(140, 320), integers().between(1, 70), integers().between(1, 300),
                integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, cfg) -> checkCase(m, n, k, cfg, null));
    }

    @Test
    void wideShapesCrossTheColumnBlock() {
        qt().withExamples(8).forAll(integers().between(1, 8), integers().between(4090, 4200), integers().between(1, 20),
                integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, cfg) -> checkCase(m, n, k, cfg, null));
    }

    @Test
    void oneElementEdgeCases() {
        for (int cfg = 0; cfg < 64; cfg++) checkCase(1, 1, 1, cfg * 4099, null);
        checkCase(1, 1, 700, 5, null);
        checkCase(1, 300, 1, 6, null);
        checkCase(300, 1, 3, 7, null);
    }

    @Test
    void epilogueRowColBiasActivationResidual() {
        qt().withExamples(200).forAll(integers().between(1, 30), integers().between(1, 40), integers().between(1, 300),
                integers().between(0, (1 << 21) - 1)).checkAssert((m, n, k, cfg) -> checkCase(m, n, k, cfg,
                        new GemmEpilogueSpec(Activation.values()[Math.floorMod(cfg * 7 + k, Activation.values().length)],
                                (cfg >>> 20 & 1) == 0, (cfg >>> 3 & 1) != 0, (cfg >>> 7 & 1) != 0)));
    }

    @Test
    void convolutionShapeMatchesReferenceAndIsIndependentOfThreadCount() {
        int m = 64, n = 3136, k = 576;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = GemmTestSupport.randomFloats(arena, (long) m * k, 1);
            MemorySegment b = GemmTestSupport.randomFloats(arena, (long) k * n, 2);
            MemorySegment c1 = arena.allocate((long) m * n * 4, 64), c2 = arena.allocate((long) m * n * 4, 64);
            int saved = ComputePool.threads();
            try {
                ComputePool.setThreads(1);
                Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c1, 0, n);
                ComputePool.setThreads(2);
                Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c2, 0, n);
                for (int[] s : new int[][] {{13, 4097, 300}, {301, 17, 513}, {64, 64, 64}}) {
                    MemorySegment x = GemmTestSupport.randomFloats(arena, (long) s[0] * s[2], 3);
                    MemorySegment y = GemmTestSupport.randomFloats(arena, (long) s[2] * s[1], 4);
                    MemorySegment r1 = arena.allocate((long) s[0] * s[1] * 4, 64), r2 = arena.allocate((long) s[0] * s[1] * 4, 64);
                    ComputePool.setThreads(1);
                    Gemm.sgemm(true, true, s[0], s[1], s[2], 1f, x, 0, s[0], y, 0, s[2], 0f, r1, 0, s[1]);
                    ComputePool.setThreads(2);
                    Gemm.sgemm(true, true, s[0], s[1], s[2], 1f, x, 0, s[0], y, 0, s[2], 0f, r2, 0, s[1]);
                    assertEquals(-1L, r1.mismatch(r2), "1 vs 2 threads differ for " + java.util.Arrays.toString(s));
                }
            } finally {
                ComputePool.setThreads(saved);
            }
            assertEquals(-1L, c1.mismatch(c2), "1-thread and 2-thread results differ bitwise");
            MemorySegment cd = arena.allocate((long) m * n * 8, 64);
            Gemm.dgemm(false, false, m, n, k, 1, GemmTestSupport.toDoubles(arena, a, false), 0, k,
                    GemmTestSupport.toDoubles(arena, b, false), 0, n, 0, cd, 0, n);
            double tol = GemmTestSupport.tolerance(k, k); // |a|,|b| ≤ 1 so Σ|a||b| ≤ k
            for (long e = 0; e < (long) m * n; e++) {
                double d = Math.abs(c1.getAtIndex(F, e) - cd.getAtIndex(D, e));
                assertTrue(d <= tol, "element " + e + " differs by " + d + " > " + tol);
            }
        }
    }
}
