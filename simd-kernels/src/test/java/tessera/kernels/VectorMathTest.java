package tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** {@link VectorMath}: exp within 2 ulp and tanh within 3 ulp of the correctly rounded values, and exact at the edges. */
class VectorMathTest {
    private static final VectorSpecies<Float> S = Species.FLOAT;

    /** f applied to a vector of x, its last lane. */
    private static float lane(java.util.function.UnaryOperator<FloatVector> f, float x) {
        float[] out = new float[S.length()];
        f.apply(FloatVector.broadcast(S, x)).intoArray(out, 0);
        return out[S.length() - 1];
    }

    private static float exp(float x) { return lane(VectorMath::exp, x); }

    private static float tanh(float x) { return lane(VectorMath::tanh, x); }

    @Test
    void withinTwoUlpOfTheCorrectlyRoundedValue() {
        qt().withExamples(20_000).forAll(floats().between(-103f, 88.7f)).checkAssert(x -> {
            float want = (float) Math.exp(x), got = exp(x);
            // subnormal results carry fewer bits: there, compare against the smallest normal's ulp
            double ulps = Math.abs(got - want) / Math.ulp(Math.max(want, Float.MIN_NORMAL));
            assertTrue(ulps <= 2, () -> "exp(" + x + ") = " + got + ", want " + want + " (" + ulps + " ulp)");
        });
    }

    @Test
    void edges() {
        assertEquals(1f, exp(0f));
        assertEquals(1f, exp(-0f));
        assertEquals(0f, exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, exp(-200f));
        assertEquals(Float.POSITIVE_INFINITY, exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, exp(100f));
        assertTrue(Float.isNaN(exp(Float.NaN)));
        assertEquals((float) Math.exp(-87.5), exp(-87.5f), Math.ulp(Float.MIN_NORMAL) * 2, "a subnormal result");
    }

    @Test
    void tanhWithinThreeUlp() {
        qt().withExamples(20_000).forAll(floats().between(-12f, 12f)).checkAssert(x -> {
            float want = (float) Math.tanh(x), got = tanh(x);
            double ulps = Math.abs(got - want) / Math.ulp(Math.max(Math.abs(want), Float.MIN_NORMAL));
            assertTrue(ulps <= 3, () -> "tanh(" + x + ") = " + got + ", want " + want + " (" + ulps + " ulp)");
        });
        assertEquals(1f, tanh(50f));
        assertEquals(-1f, tanh(Float.NEGATIVE_INFINITY));
        assertEquals(0f, tanh(0f));
        assertEquals(1e-30f, tanh(1e-30f));
        assertTrue(Float.isNaN(tanh(Float.NaN)));
    }
}
