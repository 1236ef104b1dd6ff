package tessera.layers.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise update loops of the optimizers. Segments with byte offsets; {@code n} elements. F32 loops use the
 * Vector API (float arithmetic, straight-line loop bodies: one loop per option combination so no vector value
 * merges across branches, then a scalar float tail); F64 loops are plain and read like the formulas.
 * Buffers that an option turns off are passed as null.
 */
final class OptimKernels {
    private OptimKernels() {}

    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // ================================================================ SGD
    //   d = g + wd·p
    //   momentum ≠ 0:  buf = d at the first step, else momentum·buf + (1 − dampening)·d
    //                  d = nesterov ? d + momentum·buf : buf
    //   p = p − lr·d

    /** SGD without momentum: p = p − lr·(g + wd·p). */
    static void sgdPlainF32(MemorySegment p, long po, MemorySegment g, long go, long n, float lr, float wd) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            pv.sub(d.mul(lr)).intoMemorySegment(p, po + off, NO);
        }
        for (; i < n; i++) {
            float pi = p.get(F, po + 4 * i);
            p.set(F, po + 4 * i, pi - lr * (g.get(F, go + 4 * i) + wd * pi));
        }
    }

    /**
     * SGD with momentum, straight-line: d = g + wd·p;  buf = bm·buf + bd·d;  u = ub·buf + ud·d;  p = p − lr·u.
     * First step: bm = 0, bd = 1 (buf = d); later bm = momentum, bd = 1 − dampening. Nesterov: ub = momentum,
     * ud = 1; plain: ub = 1, ud = 0.
     */
    static void sgdMomentumF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment buf, long bo, long n,
                               float lr, float wd, float bm, float bd, float ub, float ud) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            FloatVector b = FloatVector.fromMemorySegment(S, buf, bo + off, NO).mul(bm).add(d.mul(bd));
            b.intoMemorySegment(buf, bo + off, NO);
            pv.sub(b.mul(ub).add(d.mul(ud)).mul(lr)).intoMemorySegment(p, po + off, NO);
        }
        for (; i < n; i++) {
            float pi = p.get(F, po + 4 * i);
            float d = g.get(F, go + 4 * i) + wd * pi;
            float b = bm * buf.get(F, bo + 4 * i) + bd * d;
            buf.set(F, bo + 4 * i, b);
            p.set(F, po + 4 * i, pi - lr * (ub * b + ud * d));
        }
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

    /**
     * RMSprop, float32, straight-line for every option: d = g + wd·p; sq = alpha·sq + (1 − alpha)·d²;
     * centered: ga = ga + (1 − alpha)·(d − ga), avg = √(sq − ga²) + eps (non-centered: ga is null, avg = √sq + eps);
     * momentum: buf = momentum·buf + d/avg, p = p − lr·buf (buf null: p = p − lr·d/avg).
     */
    static void rmspropF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                           MemorySegment ga, long gao, MemorySegment buf, long bo, long n,
                           float lr, float alpha, float eps, float wd, float momentum) {
        long bound = S.loopBound(n);
        if (ga == null && buf == null) rmspropPlainF32(p, po, g, go, sq, so, bound, lr, alpha, eps, wd);
        else if (ga == null) rmspropMomentumF32(p, po, g, go, sq, so, buf, bo, bound, lr, alpha, eps, wd, momentum);
        else if (buf == null) rmspropCenteredF32(p, po, g, go, sq, so, ga, gao, bound, lr, alpha, eps, wd);
        else rmspropCenteredMomentumF32(p, po, g, go, sq, so, ga, gao, buf, bo, bound, lr, alpha, eps, wd, momentum);
        for (long i = bound; i < n; i++) {
            float pi = p.get(F, po + 4 * i);
            float d = g.get(F, go + 4 * i) + wd * pi;
            float s = alpha * sq.get(F, so + 4 * i) + (1 - alpha) * d * d;
            sq.set(F, so + 4 * i, s);
            float avg;
            if (ga != null) {
                float a = ga.get(F, gao + 4 * i);
                a = a + (1 - alpha) * (d - a);
                ga.set(F, gao + 4 * i, a);
                avg = (float) Math.sqrt(s - a * a) + eps;
            } else {
                avg = (float) Math.sqrt(s) + eps;
            }
            if (buf != null) {
                float b = momentum * buf.get(F, bo + 4 * i) + d / avg;
                buf.set(F, bo + 4 * i, b);
                p.set(F, po + 4 * i, pi - lr * b);
            } else {
                p.set(F, po + 4 * i, pi - lr * (d / avg));
            }
        }
    }

    private static void rmspropPlainF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                                        long bound, float lr, float alpha, float eps, float wd) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            FloatVector s = FloatVector.fromMemorySegment(S, sq, so + off, NO).mul(alpha).add(d.mul(d).mul(1f - alpha));
            s.intoMemorySegment(sq, so + off, NO);
            FloatVector avg = s.lanewise(VectorOperators.SQRT).add(eps);
            pv.sub(d.div(avg).mul(lr)).intoMemorySegment(p, po + off, NO);
        }
    }

    private static void rmspropMomentumF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                                           MemorySegment buf, long bo, long bound, float lr, float alpha, float eps, float wd, float momentum) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            FloatVector s = FloatVector.fromMemorySegment(S, sq, so + off, NO).mul(alpha).add(d.mul(d).mul(1f - alpha));
            s.intoMemorySegment(sq, so + off, NO);
            FloatVector avg = s.lanewise(VectorOperators.SQRT).add(eps);
            FloatVector b = FloatVector.fromMemorySegment(S, buf, bo + off, NO).mul(momentum).add(d.div(avg));
            b.intoMemorySegment(buf, bo + off, NO);
            pv.sub(b.mul(lr)).intoMemorySegment(p, po + off, NO);
        }
    }

    private static void rmspropCenteredF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                                           MemorySegment ga, long gao, long bound, float lr, float alpha, float eps, float wd) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            FloatVector s = FloatVector.fromMemorySegment(S, sq, so + off, NO).mul(alpha).add(d.mul(d).mul(1f - alpha));
            s.intoMemorySegment(sq, so + off, NO);
            FloatVector a = FloatVector.fromMemorySegment(S, ga, gao + off, NO);
            a = a.add(d.sub(a).mul(1f - alpha));
            a.intoMemorySegment(ga, gao + off, NO);
            FloatVector avg = s.sub(a.mul(a)).lanewise(VectorOperators.SQRT).add(eps);
            pv.sub(d.div(avg).mul(lr)).intoMemorySegment(p, po + off, NO);
        }
    }

    private static void rmspropCenteredMomentumF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment sq, long so,
                                                   MemorySegment ga, long gao, MemorySegment buf, long bo, long bound,
                                                   float lr, float alpha, float eps, float wd, float momentum) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(wd));
            FloatVector s = FloatVector.fromMemorySegment(S, sq, so + off, NO).mul(alpha).add(d.mul(d).mul(1f - alpha));
            s.intoMemorySegment(sq, so + off, NO);
            FloatVector a = FloatVector.fromMemorySegment(S, ga, gao + off, NO);
            a = a.add(d.sub(a).mul(1f - alpha));
            a.intoMemorySegment(ga, gao + off, NO);
            FloatVector avg = s.sub(a.mul(a)).lanewise(VectorOperators.SQRT).add(eps);
            FloatVector b = FloatVector.fromMemorySegment(S, buf, bo + off, NO).mul(momentum).add(d.div(avg));
            b.intoMemorySegment(buf, bo + off, NO);
            pv.sub(b.mul(lr)).intoMemorySegment(p, po + off, NO);
        }
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

    /**
     * Adam/AdamW, float32: p = p·decay; d = g + l2·p; m = m + (1 − β1)·(d − m); v = β2·v + (1 − β2)·d²;
     * AMSGrad (vmax not null): v = max(vmax, v) stored in vmax; p = p − stepSize·m / (√v·invBc2Sqrt + eps).
     * {@code decay} = 1 − lr·wd and {@code l2} = 0 for AdamW; {@code decay} = 1 and {@code l2} = wd for Adam.
     */
    static void adamF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                        MemorySegment vs, long vo, MemorySegment vmax, long xo, long n,
                        float stepSize, float invBc2Sqrt, float beta1, float beta2, float eps, float l2, float decay) {
        long bound = S.loopBound(n);
        if (vmax == null) adamVecF32(p, po, g, go, ms, mo, vs, vo, bound, stepSize, invBc2Sqrt, beta1, beta2, eps, l2, decay);
        else amsgradVecF32(p, po, g, go, ms, mo, vs, vo, vmax, xo, bound, stepSize, invBc2Sqrt, beta1, beta2, eps, l2, decay);
        for (long i = bound; i < n; i++) {
            float pi = p.get(F, po + 4 * i) * decay;
            float d = g.get(F, go + 4 * i) + l2 * pi;
            float m = ms.get(F, mo + 4 * i);
            m = m + (1 - beta1) * (d - m);
            ms.set(F, mo + 4 * i, m);
            float v = beta2 * vs.get(F, vo + 4 * i) + (1 - beta2) * d * d;
            vs.set(F, vo + 4 * i, v);
            if (vmax != null) {
                v = Math.max(vmax.get(F, xo + 4 * i), v);
                vmax.set(F, xo + 4 * i, v);
            }
            float denom = (float) Math.sqrt(v) * invBc2Sqrt + eps;
            p.set(F, po + 4 * i, pi - stepSize * (m / denom));
        }
    }

    private static void adamVecF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                                   MemorySegment vs, long vo, long bound,
                                   float stepSize, float invBc2Sqrt, float beta1, float beta2, float eps, float l2, float decay) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO).mul(decay);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(l2));
            FloatVector m = FloatVector.fromMemorySegment(S, ms, mo + off, NO);
            m = m.add(d.sub(m).mul(1f - beta1));
            m.intoMemorySegment(ms, mo + off, NO);
            FloatVector v = FloatVector.fromMemorySegment(S, vs, vo + off, NO).mul(beta2).add(d.mul(d).mul(1f - beta2));
            v.intoMemorySegment(vs, vo + off, NO);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(invBc2Sqrt).add(eps);
            pv.sub(m.div(denom).mul(stepSize)).intoMemorySegment(p, po + off, NO);
        }
    }

    private static void amsgradVecF32(MemorySegment p, long po, MemorySegment g, long go, MemorySegment ms, long mo,
                                      MemorySegment vs, long vo, MemorySegment vmax, long xo, long bound,
                                      float stepSize, float invBc2Sqrt, float beta1, float beta2, float eps, float l2, float decay) {
        for (long i = 0; i < bound; i += S.length()) {
            long off = i * 4;
            FloatVector pv = FloatVector.fromMemorySegment(S, p, po + off, NO).mul(decay);
            FloatVector d = FloatVector.fromMemorySegment(S, g, go + off, NO).add(pv.mul(l2));
            FloatVector m = FloatVector.fromMemorySegment(S, ms, mo + off, NO);
            m = m.add(d.sub(m).mul(1f - beta1));
            m.intoMemorySegment(ms, mo + off, NO);
            FloatVector v = FloatVector.fromMemorySegment(S, vs, vo + off, NO).mul(beta2).add(d.mul(d).mul(1f - beta2));
            v.intoMemorySegment(vs, vo + off, NO);
            FloatVector vm = FloatVector.fromMemorySegment(S, vmax, xo + off, NO).max(v);
            vm.intoMemorySegment(vmax, xo + off, NO);
            FloatVector denom = vm.lanewise(VectorOperators.SQRT).mul(invBc2Sqrt).add(eps);
            pv.sub(m.div(denom).mul(stepSize)).intoMemorySegment(p, po + off, NO);
        }
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
