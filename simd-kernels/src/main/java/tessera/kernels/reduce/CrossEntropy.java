package tessera.kernels.reduce;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.VectorMath;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * Cross-entropy with logits and label smoothing, as PyTorch's {@code F.cross_entropy(logits, labels,
 * reduction='mean'|'sum', label_smoothing=ε)}: with {@code p = softmax(logits[n])} and the smoothed target
 * {@code q_c = (1−ε)·[c = label_n] + ε/C}, {@code loss_n = −Σ_c q_c·log p_c}, and the result is the mean or sum over n.
 *
 * <p>Stable for any logit magnitude: {@code loss_n = lse_n − (1−ε)·(x_y − m) − (ε/C)·Σ_c (x_c − m)} with
 * {@code m = max_c x_c} and {@code lse_n = log Σ_c exp(x_c − m)}, so logits of 1e4 give exact results.
 * Shapes: logits [N, C] (F32 → Vector API path, F64 → reference), labels I64 [N] with values in [0, C).
 * The F32 loss is accumulated in float64 per fixed block of {@value #BLOCK} rows, blocks added in order (independent of
 * the thread count). Non-contiguous logits go through a contiguous copy.
 */
public final class CrossEntropy {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final int BLOCK = 64;
    /** Per-block partial losses. */
    private static final Workspace.Slot SLOT = Workspace.slot("reduce.cross-entropy.partials");

    private CrossEntropy() {}

    /** The loss (mean or sum over the batch). */
    public static double forward(Tensor logits, Tensor labels, boolean mean, double labelSmoothing) {
        long[] lab = check(logits, labels, labelSmoothing);
        int n = logits.dim(0), c = logits.dim(1);
        if (n == 0) return mean ? Double.NaN : 0;
        if (logits.dtype() == DType.F64) {
            double[] x = logits.toDoubleArray();
            double total = 0;
            for (int i = 0; i < n; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) m = Math.max(m, x[i * c + k]);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.exp(x[i * c + k] - m);
                double lse = m + Math.log(sum);                         // log Σ exp(x)
                double loss = 0;
                for (int k = 0; k < c; k++) {
                    double q = (k == lab[i] ? 1 - labelSmoothing : 0) + labelSmoothing / c;
                    loss -= q * (x[i * c + k] - lse);                    // −q_c · log p_c
                }
                total += loss;
            }
            return mean ? total / n : total;
        }
        if (!logits.isContiguous()) {
            try (Tensor lc = logits.copy()) {
                return forward(lc, labels, mean, labelSmoothing);
            }
        }
        MemorySegment xs = logits.segment();
        long xo = TensorArgs.byteOffset(logits);
        int blocks = (n + BLOCK - 1) / BLOCK;
        MemorySegment partial = Workspace.ofCurrentThread().doubles(SLOT, blocks);
        int tasks = (int) Math.min(blocks, (long) n * c < (1 << 14) ? 1 : ComputePool.threads());
        if (tasks == 1) forwardBlocks(0, blocks, n, c, xs, xo, lab, labelSmoothing, partial); // no task closure
        else ComputePool.parallelFor(tasks, t -> forwardBlocks((int) ((long) blocks * t / tasks),
                (int) ((long) blocks * (t + 1) / tasks), n, c, xs, xo, lab, labelSmoothing, partial));
        double total = 0;
        for (int b = 0; b < blocks; b++) total += partial.getAtIndex(ValueLayout.JAVA_DOUBLE, b);
        return mean ? total / n : total;
    }

    /**
     * {@code dlogits = gradScale · (softmax(logits) − q) / (mean ? N : 1)}; dlogits has the logits' shape and dtype
     * and is overwritten. gradScale is the upstream gradient of the loss (1 for a plain loss).
     */
    public static void backward(Tensor logits, Tensor labels, boolean mean, double labelSmoothing, double gradScale, Tensor dlogits) {
        long[] lab = check(logits, labels, labelSmoothing);
        TensorArgs.requireSameShape("dlogits", dlogits, "logits", logits);
        int n = logits.dim(0), c = logits.dim(1);
        if (n == 0) return;
        double scale = gradScale / (mean ? n : 1);
        if (logits.dtype() == DType.F64) {
            double[] x = logits.toDoubleArray();
            double[] d = new double[x.length];
            for (int i = 0; i < n; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) m = Math.max(m, x[i * c + k]);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.exp(x[i * c + k] - m);
                for (int k = 0; k < c; k++) {
                    double p = Math.exp(x[i * c + k] - m) / sum;
                    double q = (k == lab[i] ? 1 - labelSmoothing : 0) + labelSmoothing / c;
                    d[i * c + k] = scale * (p - q);
                }
            }
            TensorArgs.store(dlogits, d);
            return;
        }
        if (!TensorArgs.allContiguous(logits, dlogits)) {
            try (Tensor lc = logits.copy(); Tensor dc = Tensor.zeros(DType.F32, dlogits.shape())) {
                backward(lc, labels, mean, labelSmoothing, gradScale, dc);
                dlogits.copyFrom(dc);
            }
            return;
        }
        MemorySegment xs = logits.segment(), ds = dlogits.segment();
        long xo = TensorArgs.byteOffset(logits), dxo = TensorArgs.byteOffset(dlogits);
        int tasks = (int) Math.min(n, (long) n * c < (1 << 14) ? 1 : ComputePool.threads());
        if (tasks == 1) backwardRows(0, n, c, xs, xo, ds, dxo, lab, labelSmoothing, scale); // no task closure
        else ComputePool.parallelFor(tasks, t -> backwardRows((int) ((long) n * t / tasks), (int) ((long) n * (t + 1) / tasks),
                c, xs, xo, ds, dxo, lab, labelSmoothing, scale));
    }

    /** Partial losses of blocks [b0, b1) of BLOCK rows each, into partial[b]. */
    private static void forwardBlocks(int b0, int b1, int n, int c, MemorySegment xs, long xo, long[] lab, double labelSmoothing,
                                      MemorySegment partial) {
        for (int b = b0; b < b1; b++) {
            double acc = 0;
            for (int i = b * BLOCK; i < Math.min(n, (b + 1) * BLOCK); i++) {
                acc += rowLossF32(xs, xo + 4L * i * c, c, (int) lab[i], labelSmoothing);
            }
            partial.setAtIndex(ValueLayout.JAVA_DOUBLE, b, acc);
        }
    }

    /** dlogits of rows [i0, i1). */
    private static void backwardRows(int i0, int i1, int c, MemorySegment xs, long xo, MemorySegment ds, long dxo, long[] lab,
                                     double labelSmoothing, double scale) {
        for (int i = i0; i < i1; i++) {
            Softmax.rowF32(0, xs, xo + 4L * i * c, xs, 0, ds, dxo + 4L * i * c, c);
            float off = (float) (labelSmoothing / c);
            rowScaleShiftF32(ds, dxo + 4L * i * c, c, (float) scale, off);
            long at = dxo + 4L * (i * (long) c + lab[i]);
            ds.set(F, at, ds.get(F, at) - (float) (scale * (1 - labelSmoothing)));
        }
    }

    private static final ThreadLocal<long[]> LABELS = ThreadLocal.withInitial(() -> new long[0]);

    /** Validates the labels and returns them in the calling thread's reused array (its first N entries). */
    private static long[] check(Tensor logits, Tensor labels, double eps) {
        TensorArgs.requireFloat("logits", logits);
        if (logits.rank() != 2) throw new IllegalArgumentException("logits has shape " + TensorArgs.str(logits) + ", expected [N, C]");
        int n = logits.dim(0), c = logits.dim(1);
        if (c < 1) throw new IllegalArgumentException("logits has shape " + TensorArgs.str(logits) + ", expected C >= 1 classes");
        TensorArgs.requireDType("labels", labels, DType.I64);
        if (labels.rank() != 1 || labels.dim(0) != n) // not requireShape: its expected-shape array was allocated per call
            TensorArgs.requireShape("labels", labels, new int[] {n}, "[N] with N = logits.dim(0)");
        if (!(eps >= 0 && eps <= 1)) throw new IllegalArgumentException("labelSmoothing = " + eps + ", expected 0 <= labelSmoothing <= 1");
        long[] lab = LABELS.get(); // per thread, reused: read by this call's tasks only
        if (lab.length < n) LABELS.set(lab = new long[n]);
        MemorySegment ls = labels.segment();
        for (int i = 0; i < n; i++) {
            lab[i] = ls.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, labels.offset() + i * labels.stride(0));
            if (lab[i] < 0 || lab[i] >= c) {
                throw new IllegalArgumentException("labels[" + i + "] = " + lab[i] + " is out of range, expected 0 <= label < C = " + c);
            }
        }
        return lab;
    }

    /** loss of one row: lse − (1−ε)(x_y − m) − (ε/C) Σ (x_c − m). */
    private static double rowLossF32(MemorySegment xs, long xo, int c, int label, double eps) {
        int l = S.length();
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < c; i += l) {
            VectorMask<Float> m = S.indexInRange(i, c);
            mv = mv.max(FloatVector.fromMemorySegment(S, xs, xo + 4L * i, NO, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        FloatVector sv = FloatVector.zero(S), dv = FloatVector.zero(S);
        for (int i = 0; i < c; i += l) {
            VectorMask<Float> m = S.indexInRange(i, c);
            FloatVector d = FloatVector.fromMemorySegment(S, xs, xo + 4L * i, NO, m).sub(max);
            sv = sv.add(VectorMath.exp(d), m); // not lanewise(EXP): see VectorMath
            dv = dv.add(d, m);
        }
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        sv.intoArray(lanes, 0);
        dv.intoArray(lanes, l);
        double lse = Math.log(tessera.kernels.Lanes.sum(lanes, 0, l));
        double xy = (double) xs.get(F, xo + 4L * label) - max;
        return lse - (1 - eps) * xy - eps / c * tessera.kernels.Lanes.sum(lanes, l, l);
    }

    /** d = d·scale − scale·off, i.e. scale·(p − ε/C). */
    private static void rowScaleShiftF32(MemorySegment ds, long o, int c, float scale, float off) {
        int l = S.length();
        float shift = scale * off;
        for (int i = 0; i < c; i += l) {
            VectorMask<Float> m = S.indexInRange(i, c);
            FloatVector.fromMemorySegment(S, ds, o + 4L * i, NO, m).mul(scale).sub(shift).intoMemorySegment(ds, o + 4L * i, NO, m);
        }
    }
}
