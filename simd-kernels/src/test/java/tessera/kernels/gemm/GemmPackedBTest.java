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
import tessera.kernels.ActivationFn;

/**
 * {@link Gemm#packB} + {@link Gemm#sgemm(boolean, int, MemorySegment, long, int, PackedB, MemorySegment, long, int,
 * GemmEpilogue)}: with B read in place from its whole-depth strips, C equals the plain product bitwise (same reduction
 * order) and the float64 oracle within {@link GemmTestSupport#tolerance}, for A and B in either storage order, depths
 * across several k blocks, widths across several strips and NC blocks, row or column bias and ReLU, on one thread and
 * split over the pool (shared memory); nothing outside C's m×n block is written.
 */
class GemmPackedBTest {
    private static final float SENTINEL = -777.25f;

    @Test
    void packedBProductEqualsThePlainProductAndTheOracle() {
        qt().withExamples(40).forAll(integers().between(1, 40), integers().between(1, 420), integers().between(1, 160),
                longs().all()).checkAssert((m, k, n, seed) -> {
            SplittableRandom r = new SplittableRandom(seed);
            boolean transA = r.nextBoolean(), transB = r.nextBoolean(), relu = r.nextBoolean();
            int biasKind = r.nextInt(3); // none, row, column
            int lda = (transA ? m : k) + r.nextInt(3), ldb = (transB ? k : n) + r.nextInt(3), ldc = n + r.nextInt(3);
            try (Arena arena = r.nextBoolean() ? Arena.ofShared() : Arena.ofConfined()) {
                MemorySegment a = GemmTestSupport.randomFloats(arena, (long) (transA ? k : m) * lda, seed);
                MemorySegment b = GemmTestSupport.randomFloats(arena, (long) (transB ? n : k) * ldb, seed + 1);
                MemorySegment bias = GemmTestSupport.randomFloats(arena, Math.max(m, n), seed + 2);
                MemorySegment c = arena.allocate((long) m * ldc * 4);
                c.fill((byte) 0);
                for (long i = 0; i < (long) m * ldc; i++) c.setAtIndex(GemmTestSupport.F, i, SENTINEL);
                MemorySegment plain = GemmTestSupport.copy(arena, c);
                ActivationFn act = relu ? ActivationFn.relu() : ActivationFn.identity();
                GemmEpilogue ep = biasKind == 1 ? GemmEpilogue.rowBias(bias, 0, act)
                        : biasKind == 2 ? GemmEpilogue.colBias(bias, 0, act) : GemmEpilogue.activation(act);

                Gemm.sgemm(transA, m, a, 0, lda, Gemm.packB(transB, k, n, b, 0, ldb), c, 0, ldc, ep);
                Gemm.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, plain, 0, ldc, ep);

                for (int i = 0; i < m; i++)
                    for (int j = 0; j < ldc; j++) {
                        float got = c.getAtIndex(GemmTestSupport.F, (long) i * ldc + j);
                        if (j >= n) {
                            assertEquals(SENTINEL, got, "written outside C at (" + i + "," + j + ")");
                            continue;
                        }
                        float want = plain.getAtIndex(GemmTestSupport.F, (long) i * ldc + j);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got),
                                "(" + i + "," + j + "): packed B " + got + " vs plain " + want);
                        double exact = 0, mag = 0;
                        for (int p = 0; p < k; p++) {
                            double t = (double) a.getAtIndex(GemmTestSupport.F, transA ? (long) p * lda + i : (long) i * lda + p)
                                    * b.getAtIndex(GemmTestSupport.F, transB ? (long) j * ldb + p : (long) p * ldb + j);
                            exact += t;
                            mag += Math.abs(t);
                        }
                        if (biasKind > 0) {
                            double v = bias.getAtIndex(GemmTestSupport.F, biasKind == 1 ? i : j);
                            exact += v;
                            mag += Math.abs(v);
                        }
                        if (relu) exact = Math.max(exact, 0);
                        assertTrue(Math.abs(got - exact) <= GemmTestSupport.tolerance(k, mag), "(" + i + "," + j + "): " + got + " vs " + exact);
                    }
            }
        });
    }

    @Test
    void badArgumentsNameTheParameter() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = GemmTestSupport.randomFloats(arena, 6, 1), a = GemmTestSupport.randomFloats(arena, 6, 2);
            var e = assertThrows(IllegalArgumentException.class, () -> Gemm.packB(false, 3, 3, b, 0, 3));
            assertTrue(e.getMessage().contains("packB") && e.getMessage().contains("B"), e.getMessage());
            PackedB pb = Gemm.packB(false, 2, 3, b, 0, 3);
            MemorySegment small = GemmTestSupport.randomFloats(arena, 4, 3);
            var c = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemm(false, 2, a, 0, 2, pb, small, 0, 3, null));
            assertTrue(c.getMessage().contains("C"), c.getMessage());
            var n = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemm(false, 2, a, 0, 2, null, a, 0, 3, null));
            assertTrue(n.getMessage().contains("packed B"), n.getMessage());
        }
    }
}
