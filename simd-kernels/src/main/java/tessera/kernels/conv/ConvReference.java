package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import tessera.kernels.ActivationFn;
import tessera.kernels.eltwise.Activations;

/**
 * Float64 reference convolution: plain loops that read like the formulas. The test oracle for every fast algorithm
 * and the {@code F64} path of {@link Conv2d} / {@link ConvTranspose2d}. Arrays are contiguous row-major doubles;
 * offsets in elements. Forward: {@code y[n,k,p,q] = b[k] + Σ_{c∈group(k), r, s} w[k,c,r,s]·x[n,c,p·sh−pt+r·dh, q·sw−pl+s·dw]}
 * (out-of-range input reads are zero).
 */
final class ConvReference {
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private ConvReference() {}

    private static double get(MemorySegment s, long i) { return s.getAtIndex(D, i); }

    private static void set(MemorySegment s, long i, double v) { s.setAtIndex(D, i, v); }

    /** y = conv(x, w) + bias (bias may be null). */
    static void forward(ConvGeom g, MemorySegment x, long xo, MemorySegment w, long wo, MemorySegment b, long bo,
                        MemorySegment y, long yo) {
        int cg = g.cg(), kg = g.kg();
        for (int n = 0; n < g.n(); n++)
            for (int k = 0; k < g.k(); k++) {
                int group = k / kg;
                for (int p = 0; p < g.p(); p++)
                    for (int q = 0; q < g.q(); q++) {
                        double sum = b == null ? 0 : get(b, bo + k);
                        for (int c = 0; c < cg; c++)
                            for (int r = 0; r < g.r(); r++) {
                                int ih = p * g.sh() - g.pt() + r * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int s = 0; s < g.s(); s++) {
                                    int iw = q * g.sw() - g.pl() + s * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    int ci = group * cg + c;
                                    sum += get(w, wo + ((long) (k * cg + c) * g.r() + r) * g.s() + s)
                                            * get(x, xo + (((long) n * g.c() + ci) * g.h() + ih) * g.w() + iw);
                                }
                            }
                        set(y, yo + (((long) n * g.k() + k) * g.p() + p) * g.q() + q, sum);
                    }
            }
    }

    /** dx = ∂⟨y, dy⟩/∂x = transposed convolution of dy (dx overwritten). */
    static void backwardData(ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo, MemorySegment dx, long dxo) {
        long dxSize = (long) g.n() * g.c() * g.h() * g.w();
        for (long i = 0; i < dxSize; i++) set(dx, dxo + i, 0);
        int cg = g.cg(), kg = g.kg();
        for (int n = 0; n < g.n(); n++)
            for (int k = 0; k < g.k(); k++) {
                int group = k / kg;
                for (int p = 0; p < g.p(); p++)
                    for (int q = 0; q < g.q(); q++) {
                        double d = get(dy, dyo + (((long) n * g.k() + k) * g.p() + p) * g.q() + q);
                        for (int c = 0; c < cg; c++)
                            for (int r = 0; r < g.r(); r++) {
                                int ih = p * g.sh() - g.pt() + r * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int s = 0; s < g.s(); s++) {
                                    int iw = q * g.sw() - g.pl() + s * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    long xi = dxo + (((long) n * g.c() + group * cg + c) * g.h() + ih) * g.w() + iw;
                                    set(dx, xi, get(dx, xi) + d * get(w, wo + ((long) (k * cg + c) * g.r() + r) * g.s() + s));
                                }
                            }
                    }
            }
    }

    /** dw = ∂⟨y, dy⟩/∂w (overwritten); db = Σ_{n,p,q} dy (overwritten, when non-null). */
    static void backwardWeights(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                MemorySegment dw, long dwo, MemorySegment db, long dbo) {
        int cg = g.cg(), kg = g.kg();
        for (int k = 0; k < g.k(); k++) {
            int group = k / kg;
            for (int c = 0; c < cg; c++)
                for (int r = 0; r < g.r(); r++)
                    for (int s = 0; s < g.s(); s++) {
                        double sum = 0;
                        for (int n = 0; n < g.n(); n++)
                            for (int p = 0; p < g.p(); p++) {
                                int ih = p * g.sh() - g.pt() + r * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int q = 0; q < g.q(); q++) {
                                    int iw = q * g.sw() - g.pl() + s * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    sum += get(dy, dyo + (((long) n * g.k() + k) * g.p() + p) * g.q() + q)
                                            * get(x, xo + (((long) n * g.c() + group * cg + c) * g.h() + ih) * g.w() + iw);
                                }
                            }
                        set(dw, dwo + ((long) (k * cg + c) * g.r() + r) * g.s() + s, sum);
                    }
        }
        if (db != null) biasGrad(g, dy, dyo, db, dbo);
    }

    /** db[k] = Σ_{n,p,q} dy[n,k,p,q]. */
    static void biasGrad(ConvGeom g, MemorySegment dy, long dyo, MemorySegment db, long dbo) {
        for (int k = 0; k < g.k(); k++) {
            double sum = 0;
            for (int n = 0; n < g.n(); n++)
                for (int i = 0; i < g.p() * g.q(); i++) sum += get(dy, dyo + ((long) n * g.k() + k) * g.p() * g.q() + i);
            set(db, dbo + k, sum);
        }
    }

    /** y = act(y + residual) elementwise over {@code count} values (residual may be null). */
    static void postOps(MemorySegment y, long yo, long count, MemorySegment res, long ro, ActivationFn act) {
        for (long i = 0; i < count; i++) {
            double v = get(y, yo + i);
            if (res != null) v += get(res, ro + i);
            set(y, yo + i, activate(act, v));
        }
    }

    /** The activation in float64, PyTorch semantics: the table's reference {@link Activations#reference}. */
    static double activate(ActivationFn act, double v) { return Activations.reference(act, v); }
}
