package tessera.onnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tessera.onnx.Elementwise;

/** The vectorized float32 Erf (vector body and scalar tail) within one float32 ulp of the float64 series, specials exact. */
class ErfMapTest {
    @Test
    void vectorErfMatchesTheSeries() {
        int n = 200_003; // not a multiple of any vector length: the tail runs too
        Random r = new Random(5);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 4) {
                case 0 -> (float) (-7 + 14 * r.nextDouble());
                case 1 -> (float) (-0.6 + 1.2 * r.nextDouble()); // around the branch point 0.5
                case 2 -> (float) (Math.pow(10, -30 * r.nextDouble()) * (r.nextBoolean() ? 1 : -1));
                default -> (float) (r.nextGaussian() * 2);
            };
        }
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 0.5f, -0.5f, 6f, -6.5f};
        System.arraycopy(special, 0, x, 1000, special.length);
        System.arraycopy(special, 0, x, n - special.length, special.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment xs = a.allocate(4L * n + 4), ys = a.allocate(4L * n + 4);
            for (int i = 0; i < n; i++) xs.setAtIndex(DataOps.F, i + 1, x[i]); // offset 1: unaligned vectors
            DataOps.ErfMap.run(xs, 1, ys, 1, n);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                float got = ys.getAtIndex(DataOps.F, i + 1);
                double want = Elementwise.erf(x[i]);
                if (Double.isNaN(want)) {
                    assertTrue(Float.isNaN(got), "erf(NaN)");
                    continue;
                }
                if (want == 0) {
                    assertEquals(Float.floatToIntBits((float) want), Float.floatToIntBits(got), "erf(" + x[i] + ") keeps the sign of zero");
                    continue;
                }
                worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
            }
            assertTrue(worst <= 1.2e-7, "worst relative error " + worst);
            assertEquals(1f, ys.getAtIndex(DataOps.F, 1002));
            assertEquals(-1f, ys.getAtIndex(DataOps.F, 1003));
        }
    }
}
