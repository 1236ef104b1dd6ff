package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The float32 Erf of the inference kernels against the float64 series: within one float32 ulp (relative 1.2e-7) everywhere. */
class ElementwiseErfTest {
    @Test
    void fastErfIsWithinOneFloatUlpOfTheSeries() {
        double worst = 0, at = 0;
        for (int k = -700_000; k <= 700_000; k++) {
            double x = k * 1e-5; // [-7, 7], every branch and both boundaries (0.5, 6)
            double err = rel(x);
            if (err > worst) { worst = err; at = x; }
        }
        for (double x = 1e-30; x < 1; x *= 1.01) {
            worst = Math.max(worst, rel(x));
            worst = Math.max(worst, rel(-x));
        }
        assertTrue(worst <= 1.2e-7, "worst relative error " + worst + " at x = " + at);
    }

    private static double rel(double x) {
        double want = Elementwise.erf(x), got = (float) Elementwise.erfF32(x);
        return want == 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
    }

    @Test
    void specialValues() {
        assertTrue(Double.isNaN(Elementwise.erfF32(Double.NaN)));
        assertEquals(1.0, Elementwise.erfF32(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, Elementwise.erfF32(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, Elementwise.erfF32(0.0));
        assertEquals(Double.doubleToLongBits(-0.0), Double.doubleToLongBits(Elementwise.erfF32(-0.0)));
        assertEquals(-1.0, Elementwise.erfF32(-6.5));
    }
}
