package tessera.kernels.norm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API loops over one contiguous plane of n floats (byte offsets), used by the normalization kernels. */
final class PlaneF32 {
    static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    static final ByteOrder NO = ByteOrder.nativeOrder();
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private PlaneF32() {}

    static FloatVector ld(MemorySegment s, long off) { return FloatVector.fromMemorySegment(S, s, off, NO); }

    /** Σ x. */
    static float sum(MemorySegment xs, long xo, long n) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (long end = n - 4L * l; i <= end; i += 4L * l) {
            a0 = a0.add(ld(xs, xo + 4 * i));
            a1 = a1.add(ld(xs, xo + 4 * (i + l)));
            a2 = a2.add(ld(xs, xo + 4 * (i + 2L * l)));
            a3 = a3.add(ld(xs, xo + 4 * (i + 3L * l)));
        }
        for (long end = n - l; i <= end; i += l) a0 = a0.add(ld(xs, xo + 4 * i));
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += xs.get(F, xo + 4 * i);
        return s;
    }

    /** Σ (x − mean)². */
    static float sumSquaredDeviation(MemorySegment xs, long xo, long n, float mean) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        long i = 0;
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            FloatVector d0 = ld(xs, xo + 4 * i).sub(mean), d1 = ld(xs, xo + 4 * (i + l)).sub(mean);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        for (long end = n - l; i <= end; i += l) {
            FloatVector d = ld(xs, xo + 4 * i).sub(mean);
            a0 = d.fma(d, a0);
        }
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) {
            float d = xs.get(F, xo + 4 * i) - mean;
            s += d * d;
        }
        return s;
    }

    /** Σ dy·(x − mean). */
    static float dotCentered(MemorySegment gs, long go, MemorySegment xs, long xo, long n, float mean) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        long i = 0;
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            a0 = ld(xs, xo + 4 * i).sub(mean).fma(ld(gs, go + 4 * i), a0);
            a1 = ld(xs, xo + 4 * (i + l)).sub(mean).fma(ld(gs, go + 4 * (i + l)), a1);
        }
        for (long end = n - l; i <= end; i += l) a0 = ld(xs, xo + 4 * i).sub(mean).fma(ld(gs, go + 4 * i), a0);
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += (xs.get(F, xo + 4 * i) - mean) * gs.get(F, go + 4 * i);
        return s;
    }

    /**
     * y[i] = a·((x[i] − meanHi) − meanLo) + b, the mean split into a float32 head and tail (meanHi + meanLo).
     * Centring before scaling keeps y accurate when the values are close to their mean and a = γ·σ⁻¹ is large (a
     * channel with a tiny variance): the uncentred a·x + (b − a·mean) cancels two large terms in float32, and a
     * float32 mean alone would still carry an error u·|mean| that a multiplies; x − meanHi is exact for x near the mean.
     */
    static void centredScaleShift(MemorySegment xs, long xo, MemorySegment ys, long yo, long n, float meanHi, float meanLo, float a, float b) {
        int l = S.length();
        long i = 0;
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b);
        FloatVector hv = FloatVector.broadcast(S, meanHi), lv = FloatVector.broadcast(S, meanLo);
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).intoMemorySegment(ys, yo + 4 * i, NO);
            ld(xs, xo + 4 * (i + l)).sub(hv).sub(lv).fma(av, bv).intoMemorySegment(ys, yo + 4 * (i + l), NO);
        }
        for (long end = n - l; i <= end; i += l) ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).intoMemorySegment(ys, yo + 4 * i, NO);
        for (; i < n; i++) ys.set(F, yo + 4 * i, Math.fma((xs.get(F, xo + 4 * i) - meanHi) - meanLo, a, b));
    }

    /** {@link #centredScaleShift} followed by ReLU, {@code max(y, 0)} as the ReLU activation computes it. */
    static void centredScaleShiftRelu(MemorySegment xs, long xo, MemorySegment ys, long yo, long n, float meanHi, float meanLo, float a, float b) {
        int l = S.length();
        long i = 0;
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b);
        FloatVector hv = FloatVector.broadcast(S, meanHi), lv = FloatVector.broadcast(S, meanLo);
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).max(0f).intoMemorySegment(ys, yo + 4 * i, NO);
            ld(xs, xo + 4 * (i + l)).sub(hv).sub(lv).fma(av, bv).max(0f).intoMemorySegment(ys, yo + 4 * (i + l), NO);
        }
        for (long end = n - l; i <= end; i += l) ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).max(0f).intoMemorySegment(ys, yo + 4 * i, NO);
        for (; i < n; i++) ys.set(F, yo + 4 * i, Math.max(Math.fma((xs.get(F, xo + 4 * i) - meanHi) - meanLo, a, b), 0f));
    }

    // The *Masked forms read dy through a ReLU that followed the batch norm: dy where its output y > 0, else 0 (as the
    // ReLU's own backward computes it, so the sums are the same floats in the same order as the unfused pair's).

    /** Σ dy·[y > 0], accumulated as {@link #sum}. */
    static float sumMasked(MemorySegment gs, long go, MemorySegment ys, long yo, long n) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (long end = n - 4L * l; i <= end; i += 4L * l) {
            a0 = a0.add(ld(gs, go + 4 * i).blend(0f, ld(ys, yo + 4 * i).compare(VectorOperators.LE, 0f)));
            a1 = a1.add(ld(gs, go + 4 * (i + l)).blend(0f, ld(ys, yo + 4 * (i + l)).compare(VectorOperators.LE, 0f)));
            a2 = a2.add(ld(gs, go + 4 * (i + 2L * l)).blend(0f, ld(ys, yo + 4 * (i + 2L * l)).compare(VectorOperators.LE, 0f)));
            a3 = a3.add(ld(gs, go + 4 * (i + 3L * l)).blend(0f, ld(ys, yo + 4 * (i + 3L * l)).compare(VectorOperators.LE, 0f)));
        }
        for (long end = n - l; i <= end; i += l) a0 = a0.add(ld(gs, go + 4 * i).blend(0f, ld(ys, yo + 4 * i).compare(VectorOperators.LE, 0f)));
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += ys.get(F, yo + 4 * i) <= 0f ? 0f : gs.get(F, go + 4 * i);
        return s;
    }

    /** Σ dy·[y > 0]·(x − mean), accumulated as {@link #dotCentered}. */
    static float dotCenteredMasked(MemorySegment gs, long go, MemorySegment ys, long yo, MemorySegment xs, long xo, long n, float mean) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        long i = 0;
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            a0 = ld(xs, xo + 4 * i).sub(mean).fma(ld(gs, go + 4 * i).blend(0f, ld(ys, yo + 4 * i).compare(VectorOperators.LE, 0f)), a0);
            a1 = ld(xs, xo + 4 * (i + l)).sub(mean).fma(ld(gs, go + 4 * (i + l)).blend(0f, ld(ys, yo + 4 * (i + l)).compare(VectorOperators.LE, 0f)), a1);
        }
        for (long end = n - l; i <= end; i += l)
            a0 = ld(xs, xo + 4 * i).sub(mean).fma(ld(gs, go + 4 * i).blend(0f, ld(ys, yo + 4 * i).compare(VectorOperators.LE, 0f)), a0);
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += (xs.get(F, xo + 4 * i) - mean) * (ys.get(F, yo + 4 * i) <= 0f ? 0f : gs.get(F, go + 4 * i));
        return s;
    }

    /** {@link #linear2} of dy·[y > 0]. */
    static void linear2Masked(MemorySegment gs, long go, MemorySegment ys, long yo, MemorySegment xs, long xo, MemorySegment ds,
                              long dso, long n, float k1, float k2, float mean, float k3) {
        int l = S.length();
        long i = 0;
        FloatVector v1 = FloatVector.broadcast(S, k1), v2 = FloatVector.broadcast(S, k2), v3 = FloatVector.broadcast(S, k3);
        FloatVector vm = FloatVector.broadcast(S, mean);
        for (long end = n - l; i <= end; i += l) {
            FloatVector g = ld(gs, go + 4 * i).blend(0f, ld(ys, yo + 4 * i).compare(VectorOperators.LE, 0f));
            g.fma(v1, ld(xs, xo + 4 * i).sub(vm).fma(v2, v3)).intoMemorySegment(ds, dso + 4 * i, NO);
        }
        for (; i < n; i++) {
            float g = ys.get(F, yo + 4 * i) <= 0f ? 0f : gs.get(F, go + 4 * i);
            ds.set(F, dso + 4 * i, Math.fma(g, k1, Math.fma(xs.get(F, xo + 4 * i) - mean, k2, k3)));
        }
    }

    // The *ReluOpen forms read dy through a ReLU that followed the batch norm like the *Masked ones, but tell where it
    // was open from x and the forward pass's coefficients (mean in two parts hi + lo, scale a, shift b): the output
    // was max(fma((x − hi) − lo, a, b), 0), so it was > 0 exactly where that same float expression is; y is not read.

    // (written out at each vector use, with the coefficients broadcast once: a helper taking and returning vectors, or
    // broadcasting the floats at each use, was not always compiled into the loop, and then boxed vectors on the heap:
    // 0.2 MB per training step)

    /** Where the ReLU after the batch norm was closed (its output 0): fma((x − hi) − lo, a, b) ≤ 0. */
    private static boolean closed(float x, float hi, float lo, float a, float b) {
        return Math.fma((x - hi) - lo, a, b) <= 0f;
    }

    /** {@link #sumMasked} with the mask from x. */
    static float sumReluOpen(MemorySegment gs, long go, MemorySegment xs, long xo, long n, float hi, float lo, float a, float b) {
        int l = S.length();
        FloatVector hv = FloatVector.broadcast(S, hi), lv = FloatVector.broadcast(S, lo), av = FloatVector.broadcast(S, a),
                bv = FloatVector.broadcast(S, b);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (long end = n - 4L * l; i <= end; i += 4L * l) {
            a0 = a0.add(ld(gs, go + 4 * i).blend(0f, ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)));
            a1 = a1.add(ld(gs, go + 4 * (i + l)).blend(0f, ld(xs, xo + 4 * (i + l)).sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)));
            a2 = a2.add(ld(gs, go + 4 * (i + 2L * l)).blend(0f, ld(xs, xo + 4 * (i + 2L * l)).sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)));
            a3 = a3.add(ld(gs, go + 4 * (i + 3L * l)).blend(0f, ld(xs, xo + 4 * (i + 3L * l)).sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)));
        }
        for (long end = n - l; i <= end; i += l) a0 = a0.add(ld(gs, go + 4 * i).blend(0f, ld(xs, xo + 4 * i).sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)));
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += closed(xs.get(F, xo + 4 * i), hi, lo, a, b) ? 0f : gs.get(F, go + 4 * i);
        return s;
    }

    /** {@link #dotCenteredMasked} with the mask from x. */
    static float dotCenteredReluOpen(MemorySegment gs, long go, MemorySegment xs, long xo, long n, float mean,
                                     float hi, float lo, float a, float b) {
        int l = S.length();
        FloatVector hv = FloatVector.broadcast(S, hi), lv = FloatVector.broadcast(S, lo), av = FloatVector.broadcast(S, a),
                bv = FloatVector.broadcast(S, b);
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        long i = 0;
        for (long end = n - 2L * l; i <= end; i += 2L * l) {
            FloatVector x0 = ld(xs, xo + 4 * i), x1 = ld(xs, xo + 4 * (i + l));
            a0 = x0.sub(mean).fma(ld(gs, go + 4 * i).blend(0f, x0.sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)), a0);
            a1 = x1.sub(mean).fma(ld(gs, go + 4 * (i + l)).blend(0f, x1.sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)), a1);
        }
        for (long end = n - l; i <= end; i += l) {
            FloatVector x0 = ld(xs, xo + 4 * i);
            a0 = x0.sub(mean).fma(ld(gs, go + 4 * i).blend(0f, x0.sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f)), a0);
        }
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) {
            float x = xs.get(F, xo + 4 * i);
            s += (x - mean) * (closed(x, hi, lo, a, b) ? 0f : gs.get(F, go + 4 * i));
        }
        return s;
    }

    /** {@link #linear2Masked} with the mask from x. */
    static void linear2ReluOpen(MemorySegment gs, long go, MemorySegment xs, long xo, MemorySegment ds, long dso, long n,
                                float k1, float k2, float mean, float k3, float hi, float lo, float a, float b) {
        int l = S.length();
        FloatVector hv = FloatVector.broadcast(S, hi), lv = FloatVector.broadcast(S, lo), av = FloatVector.broadcast(S, a),
                bv = FloatVector.broadcast(S, b);
        long i = 0;
        FloatVector v1 = FloatVector.broadcast(S, k1), v2 = FloatVector.broadcast(S, k2), v3 = FloatVector.broadcast(S, k3);
        FloatVector vm = FloatVector.broadcast(S, mean);
        for (long end = n - l; i <= end; i += l) {
            FloatVector x = ld(xs, xo + 4 * i);
            FloatVector g = ld(gs, go + 4 * i).blend(0f, x.sub(hv).sub(lv).fma(av, bv).compare(VectorOperators.LE, 0f));
            g.fma(v1, x.sub(vm).fma(v2, v3)).intoMemorySegment(ds, dso + 4 * i, NO);
        }
        for (; i < n; i++) {
            float x = xs.get(F, xo + 4 * i);
            float g = closed(x, hi, lo, a, b) ? 0f : gs.get(F, go + 4 * i);
            ds.set(F, dso + 4 * i, Math.fma(g, k1, Math.fma(x - mean, k2, k3)));
        }
    }

    /**
     * d[i] = k1·g[i] + k2·(x[i] − mean) + k3. Centring x before scaling keeps the result accurate when the values
     * are close to their mean and k2 is large (a batch-norm input gradient with a small variance): the uncentred
     * form k2·x + (k3 − k2·mean) cancels two large terms in float32.
     */
    static void linear2(MemorySegment gs, long go, MemorySegment xs, long xo, MemorySegment ds, long dso, long n,
                        float k1, float k2, float mean, float k3) {
        int l = S.length();
        long i = 0;
        FloatVector v1 = FloatVector.broadcast(S, k1), v2 = FloatVector.broadcast(S, k2), v3 = FloatVector.broadcast(S, k3);
        FloatVector vm = FloatVector.broadcast(S, mean);
        for (long end = n - l; i <= end; i += l) {
            ld(gs, go + 4 * i).fma(v1, ld(xs, xo + 4 * i).sub(vm).fma(v2, v3)).intoMemorySegment(ds, dso + 4 * i, NO);
        }
        for (; i < n; i++) {
            ds.set(F, dso + 4 * i, Math.fma(gs.get(F, go + 4 * i), k1, Math.fma(xs.get(F, xo + 4 * i) - mean, k2, k3)));
        }
    }
}
