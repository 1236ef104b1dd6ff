package tessera.kernels.norm;

import static tessera.kernels.norm.PlaneF32.NO;
import static tessera.kernels.norm.PlaneF32.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * Local response normalization across channels, PyTorch's {@code nn.LocalResponseNorm(size, alpha, beta, k)}:
 * {@code b_c = a_c / d_c^β} with {@code d_c = k + α/size · Σ_{c' = c − ⌊size/2⌋}^{c + ⌊(size−1)/2⌋} a_c'^2}
 * (window clipped to [0, C); the divisor is always {@code size}, as PyTorch's zero padding + average pool).
 *
 * <p>Backward: {@code dx_j = dy_j·d_j^−β − (2αβ/size)·a_j·Σ_{c : j ∈ window(c)} dy_c·a_c·d_c^(−β−1)}.
 *
 * <p>Shapes: x, y, dy, dx [N, C, ...] (rank >= 2). F32: vectorized across the positions of each (n, c) plane, power
 * by the Vector API's lanewise POW (1-ulp accuracy as {@link Math#pow}); planes split across the compute pool
 * (each output computed by one thread: independent of the thread count). F64: the float64 reference.
 * Non-contiguous tensors go through a contiguous copy.
 */
public final class LocalResponseNorm {
    /** Per-element scale terms of the backward pass. */
    private static final Workspace.Slot SLOT = Workspace.slot("norm.lrn.scale");

    private LocalResponseNorm() {}

    /** Forward; y may not alias x. */
    public static void forward(Tensor x, int size, double alpha, double beta, double k, Tensor y) {
        check(x, size, k);
        TensorArgs.requireSameShape("y", y, "x", x);
        int n = x.dim(0), c = x.dim(1);
        long inner = c == 0 || n == 0 ? 0 : x.numel() / ((long) n * c);
        if (x.dtype() == DType.F64) {
            double[] a = x.toDoubleArray(), b = new double[a.length];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    for (long s = 0; s < inner; s++) {
                        double d = divisor(a, i, ch, s, c, inner, size, alpha, k);
                        int at = (int) (((long) i * c + ch) * inner + s);
                        b[at] = a[at] / Math.pow(d, beta);
                    }
                }
            }
            TensorArgs.store(y, b);
            return;
        }
        if (!TensorArgs.allContiguous(x, y)) {
            try (Tensor xc = x.copy(); Tensor yc = Tensor.zeros(DType.F32, y.shape())) {
                forward(xc, size, alpha, beta, k, yc);
                y.copyFrom(yc);
            }
            return;
        }
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y);
        long planes = (long) n * c;
        int tasks = (int) Math.max(1, Math.min(planes, x.numel() < (1 << 14) ? 1 : ComputePool.threads()));
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                int ch = (int) (p % c);
                long nb = xo + 4 * (p - ch) * inner;              // plane (n, 0)
                for (long s = 0; s < inner; s += S.length()) {
                    VectorMask<Float> m = S.indexInRange(s, inner);
                    FloatVector d = divisorF32(xs, nb + 4 * s, ch, c, inner, size, (float) (alpha / size), (float) k, m);
                    FloatVector a = FloatVector.fromMemorySegment(S, xs, xo + 4 * (p * inner + s), NO, m);
                    a.mul(d.lanewise(VectorOperators.POW, (float) -beta)).intoMemorySegment(ys, yo + 4 * (p * inner + s), NO, m);
                }
            }
        });
    }

    /** Backward (y, the forward output, is checked for shape; the divisors are recomputed from x). dx overwritten. */
    public static void backward(Tensor x, Tensor y, Tensor dy, int size, double alpha, double beta, double k, Tensor dx) {
        check(x, size, k);
        TensorArgs.requireSameShape("y", y, "x", x);
        TensorArgs.requireSameShape("dy", dy, "x", x);
        TensorArgs.requireSameShape("dx", dx, "x", x);
        int n = x.dim(0), c = x.dim(1);
        long inner = c == 0 || n == 0 ? 0 : x.numel() / ((long) n * c);
        int lo = size / 2, hi = (size - 1) / 2;                  // window(c) = [c − lo, c + hi]
        if (x.dtype() == DType.F64) {
            double[] a = x.toDoubleArray(), g = dy.toDoubleArray(), out = new double[a.length];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    for (long s = 0; s < inner; s++) {
                        int at = (int) (((long) i * c + j) * inner + s);
                        double acc = 0;                          // Σ over c with j in window(c): c ∈ [j − hi, j + lo]
                        for (int ch = Math.max(0, j - hi); ch <= Math.min(c - 1, j + lo); ch++) {
                            int ac = (int) (((long) i * c + ch) * inner + s);
                            double d = divisor(a, i, ch, s, c, inner, size, alpha, k);
                            acc += g[ac] * a[ac] * Math.pow(d, -beta - 1);
                        }
                        double dj = divisor(a, i, j, s, c, inner, size, alpha, k);
                        out[at] = g[at] * Math.pow(dj, -beta) - 2 * alpha * beta / size * a[at] * acc;
                    }
                }
            }
            TensorArgs.store(dx, out);
            return;
        }
        if (!TensorArgs.allContiguous(x, dy, dx)) {
            try (Tensor xc = x.copy(); Tensor gc = dy.copy(); Tensor dc = Tensor.zeros(DType.F32, dx.shape())) {
                backward(xc, y, gc, size, alpha, beta, k, dc);
                dx.copyFrom(dc);
            }
            return;
        }
        MemorySegment xs = x.segment(), gs = dy.segment(), ds = dx.segment();
        long xo = TensorArgs.byteOffset(x), go = TensorArgs.byteOffset(dy), dso = TensorArgs.byteOffset(dx);
        long planes = (long) n * c;
        MemorySegment tmp = Workspace.ofCurrentThread().floats(SLOT, x.numel() + S.length());
        int tasks = (int) Math.max(1, Math.min(planes, x.numel() < (1 << 14) ? 1 : ComputePool.threads()));
        float as = (float) (alpha / size), kf = (float) k, mb = (float) (-beta - 1), coef = (float) (2 * alpha * beta / size);
        // phase 1: t_c = dy_c · a_c · d_c^(−β−1)
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                int ch = (int) (p % c);
                long nb = xo + 4 * (p - ch) * inner;
                for (long s = 0; s < inner; s += S.length()) {
                    VectorMask<Float> m = S.indexInRange(s, inner);
                    FloatVector d = divisorF32(xs, nb + 4 * s, ch, c, inner, size, as, kf, m);
                    FloatVector a = FloatVector.fromMemorySegment(S, xs, xo + 4 * (p * inner + s), NO, m);
                    FloatVector g = FloatVector.fromMemorySegment(S, gs, go + 4 * (p * inner + s), NO, m);
                    g.mul(a).mul(d.lanewise(VectorOperators.POW, mb)).intoMemorySegment(tmp, 4 * (p * inner + s), NO, m);
                }
            }
        });
        // phase 2: dx_j = dy_j · d_j^−β − coef · a_j · Σ_{c ∈ [j − hi, j + lo]} t_c
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                int j = (int) (p % c);
                long nb = xo + 4 * (p - j) * inner;
                for (long s = 0; s < inner; s += S.length()) {
                    VectorMask<Float> m = S.indexInRange(s, inner);
                    FloatVector d = divisorF32(xs, nb + 4 * s, j, c, inner, size, as, kf, m);
                    FloatVector acc = FloatVector.zero(S);
                    for (int ch = Math.max(0, j - hi); ch <= Math.min(c - 1, j + lo); ch++) {
                        acc = acc.add(FloatVector.fromMemorySegment(S, tmp, 4 * ((p - j + ch) * inner + s), NO, m));
                    }
                    FloatVector a = FloatVector.fromMemorySegment(S, xs, xo + 4 * (p * inner + s), NO, m);
                    FloatVector g = FloatVector.fromMemorySegment(S, gs, go + 4 * (p * inner + s), NO, m);
                    g.mul(d.lanewise(VectorOperators.POW, (float) -beta)).sub(a.mul(acc).mul(coef))
                            .intoMemorySegment(ds, dso + 4 * (p * inner + s), NO, m);
                }
            }
        });
    }

    /** d = k + α/size · Σ_{window(c)} a², float64 reference. */
    private static double divisor(double[] a, int i, int ch, long s, int c, long inner, int size, double alpha, double k) {
        double sq = 0;
        for (int cc = Math.max(0, ch - size / 2); cc <= Math.min(c - 1, ch + (size - 1) / 2); cc++) {
            double v = a[(int) (((long) i * c + cc) * inner + s)];
            sq += v * v;
        }
        return k + alpha / size * sq;
    }

    /** Vector of divisors at positions [s, s + lanes) of channel ch; nb = byte offset of plane (n, 0) + 4s. */
    private static FloatVector divisorF32(MemorySegment xs, long nb, int ch, int c, long inner, int size, float alphaOverSize,
                                          float k, VectorMask<Float> m) {
        FloatVector sq = FloatVector.zero(S);
        for (int cc = Math.max(0, ch - size / 2); cc <= Math.min(c - 1, ch + (size - 1) / 2); cc++) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, nb + 4 * cc * inner, NO, m);
            sq = v.fma(v, sq);
        }
        return sq.mul(alphaOverSize).add(k);
    }

    private static void check(Tensor x, int size, double k) {
        TensorArgs.requireFloat("x", x);
        if (x.rank() < 2) throw new IllegalArgumentException("x has shape " + TensorArgs.str(x) + ", expected [N, C, ...] (rank >= 2)");
        if (size < 1) throw new IllegalArgumentException("size = " + size + ", expected >= 1");
        if (!(k > 0)) throw new IllegalArgumentException("k = " + k + ", expected > 0 (the divisor must stay positive)");
    }
}
