package tessera.layers.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise update loops of the optimizers. Segments with byte offsets; {@code n} elements. F32 loops use the
 * Vector API (float arithmetic, one masked iteration for the tail); F64 loops are plain and read like the formulas.
 * Buffers that an option turns off are passed as null.
 */
final class OptimKernels {
    private OptimKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // ================================================================ SGD
    //   d = g + wd·p
    //   momentum ≠ 0:  buf = d at the first step, else momentum·buf + (1 − dampening)·d
    //                  d = nesterov ? d + momentum·buf : buf
    //   p = p − lr·d

    static void sgdF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment buf, long bo, long n,
                       float lr, float wd, float momentum, float dampening, boolean nesterov, boolean first) {
        int lanes = S.length();
        long bound = n - n % lanes;
        long i = 0;
        for (; i < bound; i += lanes) sgdBlockF32(p, po, g, go, buf, bo, i, S.maskAll(true), lr, wd, momentum, dampening, nesterov, first);
        if (i < n) sgdBlockF32(p, po, g, go, buf, bo, i, S.indexInRange(i, n), lr, wd, momentum, dampening, nesterov, first);
    }

    private static void sgdBlockF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment buf, long bo, long i,
                                    VectorMask<Float> m, float lr, float wd, float momentum, float dampening,
                                    boolean nesterov, boolean first) {
        long off = i * 4;
        FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO, m);
        FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO, m);
        if (wd != 0f) d = pv.mul(wd).add(d);
        if (buf != null) {
            FloatVector b;
            if (first) {
                b = d;
            } else {
                b = FloatVector.fromMemorySegment(S, buf, bo + off, NO, m).mul(momentum).add(d.mul(1f - dampening));
            }
            b.intoMemorySegment(buf, bo + off, NO, m);
            d = nesterov ? b.mul(momentum).add(d) : b;
        }
        pv.sub(d.mul(lr)).intoMemorySegment(p, po + off, NO, m);
    }

    static void sgdF64(MemorySegment p, long po, MemorySegment g, long go, MemorySegment buf, long bo, long n,
                       double lr, double wd, double momentum, double dampening, boolean nesterov, boolean first) {
        for (long i = 0; i < n; i++) {
            double pi = p.get(D, po + 8 * i);
            double d = g.get(D, go + 8 * i) + wd * pi;
            if (buf != null) {
                double b = first ? d : momentum * buf.get(D, bo + 8 * i) + (1 - dampening) * d;
                buf.set(D, bo + 8 * i, b);
                d = nesterov ? d + momentum * b : b;
            }
            p.set(D, po + 8 * i, pi - lr * d);
        }
    }

    // ================================================================ RMSprop
    //   d = g + wd·p
    //   sq = alpha·sq + (1 − alpha)·d²
    //   centered:  ga = ga + (1 − alpha)·(d − ga);  avg = √(sq − ga²) + eps     else avg = √sq + eps
    //   momentum > 0:  buf = momentum·buf + d/avg;  p = p − lr·buf               else p = p − lr·d/avg

    static void rmspropF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                           MemorySegment ga, long gao, MemorySegment buf, long bo, long n,
                           float lr, float alpha, float eps, float wd, float momentum) {
        int lanes = S.length();
        long bound = n - n % lanes;
        long i = 0;
        for (; i < bound; i += lanes) rmspropBlockF32(p, po, g, go, sq, so, ga, gao, buf, bo, i, S.maskAll(true), lr, alpha, eps, wd, momentum);
        if (i < n) rmspropBlockF32(p, po, g, go, sq, so, ga, gao, buf, bo, i, S.indexInRange(i, n), lr, alpha, eps, wd, momentum);
    }

    private static void rmspropBlockF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                                        MemorySegment ga, long gao, MemorySegment buf, long bo, long i, VectorMask<Float> m,
                                        float lr, float alpha, float eps, float wd, float momentum) {
        long off = i * 4;
        FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO, m);
        FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO, m);
        if (wd != 0f) d = pv.mul(wd).add(d);
        FloatVector s = FloatVector.fromMemorySegment(S, sq, so + off, NO, m).mul(alpha).add(d.mul(d).mul(1f - alpha));
        s.intoMemorySegment(sq, so + off, NO, m);
        FloatVector avg;
        if (ga != null) {
            FloatVector a = FloatVector.fromMemorySegment(S, ga, gao + off, NO, m);
            a = a.add(d.sub(a).mul(1f - alpha));
            a.intoMemorySegment(ga, gao + off, NO, m);
            avg = s.sub(a.mul(a)).lanewise(VectorOperators.SQRT).add(eps);
        } else {
            avg = s.lanewise(VectorOperators.SQRT).add(eps);
        }
        if (buf != null) {
            FloatVector b = FloatVector.fromMemorySegment(S, buf, bo + off, NO, m).mul(momentum).add(d.div(avg));
            b.intoMemorySegment(buf, bo + off, NO, m);
            pv = pv.sub(b.mul(lr));
        } else {
            pv = pv.sub(d.div(avg).mul(lr));
        }
        pv.intoMemorySegment(p, po + off, NO, m);
    }

    static void rmspropF64(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                           MemorySegment ga, long gao, MemorySegment buf, long bo, long n,
                           double lr, double alpha, double eps, double wd, double momentum) {
        for (long i = 0; i < n; i++) {
            long k = 8 * i;
            double pi = p.get(D, po + k);
            double d = g.get(D, go + k) + wd * pi;
            double s = alpha * sq.get(D, so + k) + (1 - alpha) * d * d;
            sq.set(D, so + k, s);
            double avg;
            if (ga != null) {
                double a = ga.get(D, gao + k);
                a = a + (1 - alpha) * (d - a);
                ga.set(D, gao + k, a);
                avg = Math.sqrt(s - a * a) + eps;
            } else {
                avg = Math.sqrt(s) + eps;
            }
            if (buf != null) {
                double b = momentum * buf.get(D, bo + k) + d / avg;
                buf.set(D, bo + k, b);
                p.set(D, po + k, pi - lr * b);
            } else {
                p.set(D, po + k, pi - lr * d / avg);
            }
        }
    }

    // ================================================================ Adam / AdamW / AMSGrad
    //   decoupled (AdamW):  p = p·(1 − lr·wd)            else (Adam):  d = g + wd·p
    //   m = m + (1 − β1)·(d − m);   v = β2·v + (1 − β2)·d²
    //   amsgrad: vmax = max(vmax, v), use vmax for v below
    //   p = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)

    static void adamF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                        MemorySegment vs, long vo, MemorySegment vmax, long xo, long n,
                        float stepSize, float invBc2Sqrt, float beta1, float beta2, float eps, float l2, float decay) {
        int lanes = S.length();
        long bound = n - n % lanes;
        long i = 0;
        for (; i < bound; i += lanes) adamBlockF32(p, po, g, go, ms, mo, vs, vo, vmax, xo, i, S.maskAll(true), stepSize, invBc2Sqrt, beta1, beta2, eps, l2, decay);
        if (i < n) adamBlockF32(p, po, g, go, ms, mo, vs, vo, vmax, xo, i, S.indexInRange(i, n), stepSize, invBc2Sqrt, beta1, beta2, eps, l2, decay);
    }

    /** {@code decay} = 1 − lr·wd for AdamW (1 for Adam); {@code l2} = wd for Adam (0 for AdamW). */
    private static void adamBlockF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                                     MemorySegment vs, long vo, MemorySegment vmax, long xo, long i, VectorMask<Float> mask,
                                     float stepSize, float invBc2Sqrt, float beta1, float beta2, float eps, float l2, float decay) {
        long off = i * 4;
        FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO, mask);
        FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO, mask);
        if (decay != 1f) pv = pv.mul(decay);
        if (l2 != 0f) d = pv.mul(l2).add(d);
        FloatVector m = FloatVector.fromMemorySegment(S, ms, mo + off, NO, mask);
        m = m.add(d.sub(m).mul(1f - beta1));
        m.intoMemorySegment(ms, mo + off, NO, mask);
        FloatVector v = FloatVector.fromMemorySegment(S, vs, vo + off, NO, mask).mul(beta2).add(d.mul(d).mul(1f - beta2));
        v.intoMemorySegment(vs, vo + off, NO, mask);
        if (vmax != null) {
            v = FloatVector.fromMemorySegment(S, vmax, xo + off, NO, mask).max(v);
            v.intoMemorySegment(vmax, xo + off, NO, mask);
        }
        FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(invBc2Sqrt).add(eps);
        pv.sub(m.div(denom).mul(stepSize)).intoMemorySegment(p, po + off, NO, mask);
    }

    static void adamF64(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                        MemorySegment vs, long vo, MemorySegment vmax, long xo, long n,
                        double lr, double bc1, double bc2, double beta1, double beta2, double eps, double wd, boolean decoupled) {
        double stepSize = lr / bc1;
        double bc2Sqrt = Math.sqrt(bc2);
        for (long i = 0; i < n; i++) {
            long k = 8 * i;
            double pi = p.get(D, po + k);
            double d = g.get(D, go + k);
            if (decoupled) pi = pi * (1 - lr * wd);
            else d = d + wd * pi;
            double m = ms.get(D, mo + k);
            m = m + (1 - beta1) * (d - m);
            ms.set(D, mo + k, m);
            double v = beta2 * vs.get(D, vo + k) + (1 - beta2) * d * d;
            vs.set(D, vo + k, v);
            if (vmax != null) {
                v = Math.max(vmax.get(D, xo + k), v);
                vmax.set(D, xo + k, v);
            }
            double denom = Math.sqrt(v) / bc2Sqrt + eps;
            p.set(D, po + k, pi - stepSize * m / denom);
        }
    }
}
