package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;

class FiniteDifferenceTest {
    private static final GradientCheck.Settings S = GradientCheck.Settings.DEFAULT;

    @Test
    void centralDifferenceOfASmoothFunctionMatchesItsDerivativeAndRestoresTheValue() {
        qt().forAll(doubles().between(-3, 3)).checkAssert(x0 -> {
            try (Tensor t = Tensor.zeros(tessera.memory.DType.F64, 1)) {
                t.set(x0, 0);
                var p = FiniteDifference.probe(t, 0, Math.sin(x0), () -> Math.sin(t.getDouble(0)), S);
                assertFalse(p.kink(), "sin has no kink at " + x0);
                assertTrue(FiniteDifference.passes(Math.cos(x0), p.numeric(), S), p.numeric() + " vs " + Math.cos(x0));
                assertEquals(x0, t.getDouble(0));
            }
        });
    }

    @Test
    void aKinkWithinEpsilonIsReportedNotPassed() {
        try (Tensor t = Tensor.zeros(tessera.memory.DType.F64, 1)) {
            t.set(0.3 * S.eps(), 0);
            var p = FiniteDifference.probe(t, 0, Math.abs(t.getDouble(0)), () -> Math.abs(t.getDouble(0)), S);
            assertTrue(p.kink());
        }
    }

    @Test
    void passRuleIsAbsolutePlusRelative() {
        assertTrue(FiniteDifference.passes(1.0 + 0.9e-3 + 0.9e-5, 1.0, S));
        assertFalse(FiniteDifference.passes(1.0 + 1.1e-3 + 1.1e-5, 1.0, S));
        assertTrue(FiniteDifference.passes(0.9e-5, 0.0, S));
        assertFalse(FiniteDifference.passes(1.1e-5, 0.0, S));
    }

    @Test
    void sampledCoordinatesAreDistinctAndInRange() {
        qt().forAll(integers().between(0, 200), integers().between(1, 64), longs().all()).checkAssert((n, max, seed) -> {
            int[] c = FiniteDifference.coordinates(n, max, new SplittableRandom(seed));
            assertEquals(Math.min(n, max), c.length);
            assertEquals(c.length, Arrays.stream(c).distinct().count());
            assertTrue(Arrays.stream(c).allMatch(i -> i >= 0 && i < n));
        });
    }
}
