package tessera.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.layers.LayerRegistry;
import tessera.gradcheck.CaseResult;
import tessera.gradcheck.LayerCase;
import tessera.gradcheck.LayerGradientChecker;

/**
 * Non-smooth points are handled honestly: inputs placed exactly at kinks (ReLU at 0, max-pool and maxout ties) are
 * detected by the disagreeing one-sided differences, skipped and counted — and the smooth coordinates of the same
 * case are still checked. Random inputs (the property suites) essentially never hit a kink, which the reported
 * counts confirm.
 */
class KinkHandlingTest {
    private final LayerGradientChecker checker = new LayerGradientChecker(LayerRegistry.getDefault());

    @Test
    void reluAtZeroIsSkippedAndCounted() {
        LayerCase c = new LayerCase("ReLU", Map.of(), new int[]{1, 2, 2}, 1, true, 0);
        CaseResult r = checker.check(c, new double[]{0.0, 0.5, -0.5, 0.0});
        assertTrue(r.passed(), r.message());
        assertEquals(2, r.skippedKinks(), "the two zeros are kinks");
        assertEquals(2, r.checked(), "the two others are checked");
    }

    @Test
    void maxPoolTiesAreSkippedAndCounted() {
        LayerCase c = new LayerCase("MaxPool2d", Map.of("kernel_size", 2), new int[]{1, 2, 2}, 1, true, 0);
        CaseResult r = checker.check(c, new double[]{0.3, 0.3, -0.2, 0.1});   // a tie for the window's max
        assertTrue(r.passed(), r.message());
        assertEquals(2, r.skippedKinks(), "both tied maxima sit on a kink");
        assertEquals(2, r.checked());
    }

    @Test
    void maxoutTiesAreSkippedAndCounted() {
        LayerCase c = new LayerCase("Maxout", Map.of("pieces", 2), new int[]{2, 1, 2}, 1, true, 0);
        // channels (0, 1) form one group: ties at w = 0, not at w = 1
        CaseResult r = checker.check(c, new double[]{0.4, 0.9, 0.4, -0.1});
        assertTrue(r.passed(), r.message());
        assertEquals(2, r.skippedKinks());
        assertEquals(2, r.checked());
    }

    @Test
    void aRealErrorIsNotMistakenForAKink() {
        // the off-by-one mutant is linear: no kink anywhere, so its error must fail, not be skipped
        LayerCase c = new LayerCase("MutantOffByOneShift", Map.of(), new int[]{1, 1, 3}, 1, true, 0);
        CaseResult r = checker.check(c, new double[]{0.1, -0.7, 0.4});
        assertEquals(0, r.skippedKinks());
        assertTrue(!r.passed(), "the wrong gradient must fail");
    }
}
