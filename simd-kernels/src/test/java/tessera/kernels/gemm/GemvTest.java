package tessera.kernels.gemm;

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
import tessera.kernels.eltwise.Activations;

/**
 * {@link Gemm#sgemv}: every row (four-row blocks and the remainder, masked k tails, k below one vector, several
 * parallel tasks) within the float64 bound of {@link GemmTestSupport#tolerance}; y untouched outside its rows.
 */
class GemvTest {
    @Test
    void matchesTheFloat64Oracle() {
        qt().withExamples(80).forAll(integers().between(1, 300), integers().between(1, 200), integers().between(0, 2), longs().all())
                .checkAssert((rows, k, mode, seed) -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    int ldw = k + r.nextInt(3);
                    float alpha = r.nextBoolean() ? 1f : 0.5f;
                    ActivationFn act = mode == 0 ? ActivationFn.identity() : mode == 1 ? ActivationFn.relu() : ActivationFn.clip(-0.2f, 0.3f);
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment w = GemmTestSupport.randomFloats(arena, (long) rows * ldw, seed);
                        MemorySegment x = GemmTestSupport.randomFloats(arena, k + 1, seed + 1);
                        MemorySegment bias = r.nextBoolean() ? GemmTestSupport.randomFloats(arena, rows, seed + 2) : null;
                        MemorySegment y = arena.allocate((rows + 2) * 4L, 64);
                        y.fill((byte) 0x7f);
                        Gemm.sgemv(rows, k, alpha, w, 0, ldw, x, 1, bias, 0, act, y, 1);
                        for (int i = 0; i < rows; i++) {
                            double want = 0, mag = 0;
                            for (int p = 0; p < k; p++) {
                                double t = (double) w.getAtIndex(GemmTestSupport.F, (long) i * ldw + p) * x.getAtIndex(GemmTestSupport.F, p + 1);
                                want += t;
                                mag += Math.abs(t);
                            }
                            want *= alpha;
                            mag *= alpha;
                            if (bias != null) { want += bias.getAtIndex(GemmTestSupport.F, i); mag += Math.abs(bias.getAtIndex(GemmTestSupport.F, i)); }
                            want = Activations.reference(act, want);
                            double got = y.getAtIndex(GemmTestSupport.F, i + 1);
                            double tol = GemmTestSupport.tolerance(k, mag);
                            assertTrue(Math.abs(got - want) <= tol, "row " + i + " of " + rows + ", k " + k + ": " + got + " vs " + want);
                        }
                        int sentinel = 0x7f7f7f7f;
                        assertTrue(y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 0) == sentinel
                                && y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, rows + 1) == sentinel, "wrote outside y");
                    }
                });
    }

    @Test
    void badArgumentsAreClear() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(64), x = arena.allocate(16), y = arena.allocate(16);
            var e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemv(4, 4, 1f, w, 0, 4, x, 0, null, 0, null, y, 1));
            assertTrue(e.getMessage().contains("y"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemv(4, 4, 1f, w, 0, 3, x, 0, null, 0, null, y, 0));
            assertTrue(e.getMessage().contains("ldw"), e.getMessage());
        }
    }
}
