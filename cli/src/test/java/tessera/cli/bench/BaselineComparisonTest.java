package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BaselineComparisonTest {
    @Test
    void relativeErrorsAddInQuadrature() {
        BaselineComparison.Ratio r = BaselineComparison.ratio(90, 0.03, 100, 0.04, 0.05);
        assertEquals(0.9, r.ratio(), 1e-12);
        assertEquals(0.9 * 0.05, r.error(), 1e-12); // √(0.03² + 0.04²) = 0.05
        assertEquals(BaselineComparison.Verdict.REGRESSION, r.verdict()); // 0.9 + 0.045 < 1 and a 10% drop
    }

    @Test
    void aDropInsideTheErrorBarsIsNotARegression() {
        assertEquals(BaselineComparison.Verdict.SAME, BaselineComparison.ratio(90, 0.08, 100, 0.08, 0.05).verdict()); // 0.9 ± 0.102
    }

    @Test
    void aDropBelowTheNoiseFloorIsNotARegressionEvenWithTinyErrorBars() {
        BaselineComparison.Ratio r = BaselineComparison.ratio(97, 0.001, 100, 0.001, 0.05);
        assertEquals(BaselineComparison.Verdict.SAME, r.verdict());
        assertEquals(BaselineComparison.Verdict.REGRESSION, BaselineComparison.ratio(97, 0.001, 100, 0.001, 0.02).verdict());
    }

    @Test
    void fasterBeyondNoiseIsFlaggedAndMissingErrorsCountAsZero() {
        BaselineComparison.Ratio r = BaselineComparison.ratio(130, Double.NaN, 100, 0.1, 0.05);
        assertEquals(1.3, r.ratio(), 1e-12);
        assertEquals(0.13, r.error(), 1e-12);
        assertEquals(BaselineComparison.Verdict.FASTER, r.verdict());
    }
}
