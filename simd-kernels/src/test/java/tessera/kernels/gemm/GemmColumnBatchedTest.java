package tessera.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;

/**
 * {@link Gemm#sgemmColumnBatched}: the batches folded into one product's columns give, batch by batch, what separate
 * products give — bitwise (every C element is reduced in the same order whatever its column position) — and match the
 * float64 oracle within {@link GemmTestSupport#tolerance}; nothing outside each batch's C block is written.
 * Covers batches narrower than a tile (cols = 1 … NR + a few), gaps between batches, beta 0/1, bias, residual, ReLU.
 */
class GemmColumnBatchedTest {
    private static final float SENTINEL = 12345.5f;

    @Test
    void foldedBatchesEqualSeparateProductsAndTheOracle() {
        qt().withExamples(60).forAll(integers().between(1, 40), integers().between(1, 70), integers().between(1, 70),
                longs().all()).checkAssert((m, k, cols, seed) -> {
            SplittableRandom r = new SplittableRandom(seed);
            int batches = 2 + r.nextInt(8);
            int ldb = cols + r.nextInt(3), ldc = cols + r.nextInt(3), ldr = cols + r.nextInt(2);
            long bStride = (long) k * ldb + r.nextInt(5), cStride = (long) m * ldc + r.nextInt(5), rStride = (long) m * ldr + r.nextInt(4);
            boolean bias = r.nextBoolean(), residual = r.nextBoolean(), relu = r.nextBoolean();
            float beta = r.nextBoolean() ? 0f : 1f;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = GemmTestSupport.randomFloats(arena, (long) m * k, seed);
                MemorySegment b = GemmTestSupport.randomFloats(arena, bStride * batches, seed + 1);
                MemorySegment c0 = GemmTestSupport.randomFloats(arena, cStride * batches, seed + 2);
                for (long i = 0; i < cStride * batches; i++) if (!inBlock(i, cStride, m, ldc, cols)) c0.setAtIndex(GemmTestSupport.F, i, SENTINEL);
                MemorySegment bs = bias ? GemmTestSupport.randomFloats(arena, m, seed + 3) : null;
                MemorySegment res = residual ? GemmTestSupport.randomFloats(arena, rStride * batches, seed + 4) : null;
                GemmEpilogue ep = new GemmEpilogue(bs, 0, null, 0, relu ? ActivationFn.relu() : ActivationFn.identity(), res, 0, ldr);
                PackedA pa = Gemm.packA(false, m, k, a, 0, k);

                MemorySegment folded = GemmTestSupport.copy(arena, c0);
                Gemm.sgemmColumnBatched(pa, batches, cols, 1f, b, 0, ldb, bStride, beta, folded, 0, ldc, cStride, ep, rStride);

                MemorySegment separate = GemmTestSupport.copy(arena, c0);
                for (int s = 0; s < batches; s++) {
                    GemmEpilogue es = new GemmEpilogue(bs, 0, null, 0, ep.activation(), res, s * rStride, ldr);
                    Gemm.sgemm(pa, false, cols, 1f, b, s * bStride, ldb, beta, separate, s * cStride, ldc, es);
                }
                for (long i = 0; i < cStride * batches; i++) {
                    float f = folded.getAtIndex(GemmTestSupport.F, i), g = separate.getAtIndex(GemmTestSupport.F, i);
                    assertEquals(Float.floatToIntBits(g), Float.floatToIntBits(f), "element " + i + ": folded " + f + " vs separate " + g);
                    if (!inBlock(i, cStride, m, ldc, cols)) assertEquals(SENTINEL, f, "written outside the C blocks at " + i);
                }
                for (int s = 0; s < batches; s++)
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < cols; j++) {
                            double want = beta * c0.getAtIndex(GemmTestSupport.F, s * cStride + (long) i * ldc + j), mag = Math.abs(want);
                            for (int p = 0; p < k; p++) {
                                double t = (double) a.getAtIndex(GemmTestSupport.F, (long) i * k + p)
                                        * b.getAtIndex(GemmTestSupport.F, s * bStride + (long) p * ldb + j);
                                want += t;
                                mag += Math.abs(t);
                            }
                            if (bias) { double v = bs.getAtIndex(GemmTestSupport.F, i); want += v; mag += Math.abs(v); }
                            if (residual) { double v = res.getAtIndex(GemmTestSupport.F, s * rStride + (long) i * ldr + j); want += v; mag += Math.abs(v); }
                            if (relu) want = Math.max(want, 0);
                            double got = folded.getAtIndex(GemmTestSupport.F, s * cStride + (long) i * ldc + j);
                            assertTrue(Math.abs(got - want) <= GemmTestSupport.tolerance(k, mag),
                                    "batch " + s + " (" + i + "," + j + "): " + got + " vs " + want);
                        }
            }
        });
    }

    private static boolean inBlock(long i, long cStride, int m, int ldc, int cols) {
        long within = i % cStride;
        return within < (long) m * ldc && within % ldc < cols;
    }

    @Test
    void badArgumentsNameTheParameter() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = GemmTestSupport.randomFloats(arena, 4, 1), b = GemmTestSupport.randomFloats(arena, 8, 2);
            MemorySegment c = GemmTestSupport.randomFloats(arena, 8, 3);
            PackedA pa = Gemm.packA(false, 2, 2, a, 0, 2);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Gemm.sgemmColumnBatched(pa, 0, 2, 1f, b, 0, 2, 4, 0f, c, 0, 2, 4, null, 0));
            assertTrue(e.getMessage().contains("batches"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Gemm.sgemmColumnBatched(pa, 3, 2, 1f, b, 0, 2, 4, 0f, c, 0, 2, 4, null, 0));
            assertTrue(e.getMessage().contains("last batch"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemmColumnBatched(pa, 2, 2, 1f, b, 0, 2, 4, 0f, c, 0, 2, 4,
                    GemmEpilogue.colBias(c, 0, Activation.IDENTITY, 0f), 0));
            assertTrue(e.getMessage().contains("column bias"), e.getMessage());
        }
    }
}
