package tessera.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Transcendental functions (exp, tanh) on float vectors built only from IEEE-exact operations (add, multiply, fused multiply-add,
 * integer bit manipulation), so they return the same bits in interpreted, C1- and C2-compiled code. The Vector API's
 * {@code lanewise(EXP)} does not: C2 calls a vectorized math library while the interpreter falls back to
 * {@code Math.exp}, and the two differ in the last bit, so a training run's losses depended on when the JIT compiled
 * the softmax (LeNet-5, 300 steps on one thread: three runs, three final losses).
 */
public final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two (Cody–Waite): C1 exact in few bits, C1 + C2 = ln 2 to beyond float precision. */
    private static final float C1 = 0.693359375f, C2 = -2.12194440e-4f;
    /** 1.5·2²³: adding and subtracting it rounds a float of magnitude below 2²² to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final float HI = 88.72283905206835f, LO = -104f;

    /**
     * e^x lane by lane, within 2 ulp of {@link Math#exp} over the float range (Cephes' expf polynomial after a
     * Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ln 2 / 2; 2ⁿ applied in two halves so subnormal results are right).
     * e^x overflows to +∞ above 88.72, is 0 below −104, and NaN stays NaN.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(LO).min(HI);
        FloatVector n = c.fma(FloatVector.broadcast(x.species(), LOG2E), FloatVector.broadcast(x.species(), ROUND)).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(x.species(), -C1), c); // exact: n·C1 needs 17 bits
        r = n.fma(FloatVector.broadcast(x.species(), -C2), r);
        FloatVector z = r.mul(r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(x.species(), 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(x.species(), 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(x.species(), 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(x.species(), 5.0000001201e-1f));
        FloatVector y = p.fma(z, r).add(1f);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1), n2 = ni.sub(n1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector e = y.mul(s1).mul(s2);
        // above the clamp: +∞; NaN: its integer conversion is 0, so restore it
        return e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, HI)).blend(x, x.test(VectorOperators.IS_NAN));
    }

    /**
     * tanh lane by lane, within 3 ulp of {@link Math#tanh} (Cephes' tanhf: an odd polynomial below |x| = 0.625, else
     * 1 − 2 / (e^{2|x|} + 1) with {@link #exp}); ±1 for large |x|, NaN stays NaN.
     */
    public static FloatVector tanh(FloatVector x) {
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(-5.70498872745e-3f, 2.06390887954e-2f);
        p = p.fma(z, FloatVector.broadcast(x.species(), -5.37397155531e-2f));
        p = p.fma(z, FloatVector.broadcast(x.species(), 1.33314422036e-1f));
        p = p.fma(z, FloatVector.broadcast(x.species(), -3.33332819422e-1f));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector a = x.abs();
        FloatVector large = x.broadcast(1f).sub(x.broadcast(2f).div(exp(a.add(a)).add(1f)));
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        return large.blend(small, a.compare(VectorOperators.LE, 0.625f)).blend(x, x.test(VectorOperators.IS_NAN));
    }
}
