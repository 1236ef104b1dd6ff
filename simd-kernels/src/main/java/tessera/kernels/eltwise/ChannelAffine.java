package tessera.kernels.eltwise;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Per-channel scale and bias over dimension 1: {@code y[n,c,...] = x[n,c,...]·scale[c] + bias[c]}.
 * F32: Vector API fused multiply-add per (n, c) plane, planes split across the compute pool; F64: reference.
 * Non-contiguous tensors go through a contiguous copy.
 */
public final class ChannelAffine {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private ChannelAffine() {}

    /**
     * x [N, C, ...] (rank >= 2), scale [C] or null (= 1), bias [C] or null (= 0), y of x's shape (may be x).
     * The F32 path rounds once ({@code fma}).
     */
    public static void forward(Tensor x, Tensor scale, Tensor bias, Tensor y) {
        TensorArgs.requireFloat("x", x);
        TensorArgs.requireSameShape("y", y, "x", x);
        if (x.rank() < 2) throw new IllegalArgumentException("x has shape " + TensorArgs.str(x) + ", expected rank >= 2 [N, C, ...]");
        int c = x.dim(1);
        if (scale != null) {
            TensorArgs.requireSameDType("scale", scale, "x", x);
            TensorArgs.requireShape("scale", scale, new int[] {c}, "[C] with C = x.dim(1)");
        }
        if (bias != null) {
            TensorArgs.requireSameDType("bias", bias, "x", x);
            TensorArgs.requireShape("bias", bias, new int[] {c}, "[C] with C = x.dim(1)");
        }
        long planes = (long) x.dim(0) * c;
        long inner = planes == 0 ? 0 : x.numel() / planes;
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray();
            double[] s = scale == null ? null : scale.toDoubleArray(), b = bias == null ? null : bias.toDoubleArray();
            double[] ys = new double[xs.length];
            for (int i = 0; i < xs.length; i++) {
                int ch = (int) ((i / inner) % c);
                ys[i] = xs[i] * (s == null ? 1 : s[ch]) + (b == null ? 0 : b[ch]);
            }
            TensorArgs.store(y, ys);
            return;
        }
        if (!TensorArgs.allContiguous(x, scale, bias, y)) {
            try (Tensor xc = x.copy(); Tensor sc = scale == null ? null : scale.copy(); Tensor bc = bias == null ? null : bias.copy();
                 Tensor yc = Tensor.zeros(DType.F32, y.shape())) {
                forward(xc, sc, bc, yc);
                y.copyFrom(yc);
            }
            return;
        }
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y);
        MemorySegment ss = scale == null ? null : scale.segment(), bs = bias == null ? null : bias.segment();
        long so = scale == null ? 0 : TensorArgs.byteOffset(scale), bo = bias == null ? 0 : TensorArgs.byteOffset(bias);
        int tasks = (int) Math.min(planes, Ranges.tasks(x.numel()));
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                int ch = (int) (p % c);
                float sv = ss == null ? 1f : ss.get(F, so + 4L * ch);
                float bv = bs == null ? 0f : bs.get(F, bo + 4L * ch);
                planeF32(sv, bv, xs, xo + 4 * p * inner, ys, yo + 4 * p * inner, inner);
            }
        });
    }

    /** f32-vscaleadd: y[i] = fma(x[i], s, b) for i < n (byte offsets). */
    static void planeF32(float s, float b, MemorySegment xs, long xo, MemorySegment ys, long yo, long n) {
        long i = 0, end = S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(S, s), bv = FloatVector.broadcast(S, b);
        for (; i < end; i += S.length()) {
            FloatVector.fromMemorySegment(S, xs, xo + 4 * i, NO).fma(sv, bv).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        for (; i < n; i++) ys.set(F, yo + 4 * i, Math.fma(xs.get(F, xo + 4 * i), s, b));
    }
}
