package tessera.kernels.norm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.Activations;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * Batch normalization over dimension 1 with PyTorch semantics ({@code nn.BatchNorm1d/2d}).
 *
 * <p>Shapes: x, y, dy, dx [N, C] or [N, C, H, W] (any [N, C, ...]); gamma, beta, runningMean, runningVar, saveMean,
 * saveInvStd, dgamma, dbeta [C]; all of x's float dtype. Statistics are over the M = N·H·W values of each channel.
 * gamma/beta may be null (= 1 / 0, {@code affine=False}); the running statistics may be null in training
 * ({@code track_running_stats=False}); saveMean/saveInvStd/dgamma/dbeta may be null when not wanted.
 *
 * <p>F32: each (n, c) plane is summed with float32 vector lanes, plane sums are added per channel in float64 in
 * plane order (independent of the thread count); variance is two-pass (Σ(x − mean)²). Training work is split by
 * channel: one task takes a channel's N planes through all its passes, so the later passes read them from cache. F64 tensors take the float64
 * reference. x/y/dy/dx must be contiguous for F32 (non-contiguous ones go through a contiguous copy).
 */
public final class BatchNorm {
    /** Per-channel coefficients (inference). */
    private static final Workspace.Slot SLOT_CHANNEL = Workspace.slot("norm.batch.channel-stats");

    private BatchNorm() {}

    /**
     * Training: normalizes with the biased batch variance, {@code y = (x − mean)/sqrt(var + eps)·gamma + beta};
     * saveMean = mean, saveInvStd = 1/sqrt(var + eps); running stats updated in place as
     * {@code r = (1 − momentum)·r + momentum·stat} with the unbiased variance {@code var·M/(M − 1)} (M must be > 1).
     */
    public static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        forwardTraining(x, gamma, beta, runningMean, runningVar, momentum, eps, y, saveMean, saveInvStd, false);
    }

    /**
     * As above; with {@code relu} the output is {@code max(y, 0)} (a ReLU fused into the same pass, bitwise equal to
     * the ReLU activation applied after it). Its backward is {@link #backward} with that output as the ReLU mask.
     */
    public static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd,
                                       boolean relu) {
        forwardTraining(x, gamma, beta, runningMean, runningVar, momentum, eps, y, saveMean, saveInvStd, relu, null);
    }

    /**
     * As above with a fused ReLU, also saving in {@code reluCoefficients} (float32, 4·C values; null: not wanted)
     * the per-channel coefficients the output was computed with, so that {@link #backward(Tensor, Tensor, Tensor,
     * Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)} can tell where the ReLU was open from x alone instead
     * of reading the output again. Filled by the float32 kernel only (x float32; a non-contiguous x through its
     * contiguous copy); otherwise left as it was, and the backward then needs the output.
     */
    public static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd,
                                       boolean relu, Tensor reluCoefficients) {
        int c = checkX(x);
        if (reluCoefficients != null) requireCoefficients(reluCoefficients, x, c);
        TensorArgs.requireSameShape("y", y, "x", x);
        checkChannel("gamma", gamma, x, c, true);
        checkChannel("beta", beta, x, c, true);
        checkChannel("runningMean", runningMean, x, c, true);
        checkChannel("runningVar", runningVar, x, c, true);
        checkChannel("saveMean", saveMean, x, c, true);
        checkChannel("saveInvStd", saveInvStd, x, c, true);
        if (!(eps > 0)) throw new IllegalArgumentException("eps = " + eps + ", expected > 0");
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("momentum = " + momentum + ", expected 0 <= momentum <= 1");
        long m = x.numel() / c;
        if (m <= 1) {
            throw new IllegalArgumentException("x has shape " + TensorArgs.str(x) + ": expected more than 1 value per channel when training");
        }
        if (x.dtype() == DType.F64) {
            trainingReference(x, gamma, beta, runningMean, runningVar, momentum, eps, y, saveMean, saveInvStd);
            if (relu) Activations.forward(ActivationFn.RELU, y, y);
            return;
        }
        if (!TensorArgs.allContiguous(x, y)) {
            try (Tensor xc = x.copy(); Tensor yc = Tensor.zeros(DType.F32, y.shape())) {
                forwardTraining(xc, gamma, beta, runningMean, runningVar, momentum, eps, yc, saveMean, saveInvStd, relu,
                        reluCoefficients);
                y.copyFrom(yc);
            }
            return;
        }
        MemorySegment rc = relu && reluCoefficients != null ? reluCoefficients.segment() : null;
        long rco = rc == null ? 0 : TensorArgs.byteOffset(reluCoefficients);
        int n = x.dim(0);
        long inner = m / n;
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y);
        int tasks = tasks(c, x.numel());
        int group = channelGroup(inner);
        ForwardJob job = FORWARD_JOB.get();
        job.set(c, tasks, group, n, inner, m, xs, xo, ys, yo, rc, rco, gamma, beta, runningMean, runningVar, saveMean,
                saveInvStd, momentum, eps, relu);
        try {
            ComputePool.parallelFor(tasks, job);
        } finally {
            job.clear();
        }
    }

    /** Inference: {@code y = (x − runningMean)/sqrt(runningVar + eps)·gamma + beta}; running stats required. y may be x. */
    public static void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps, Tensor y) {
        int c = checkX(x);
        TensorArgs.requireSameShape("y", y, "x", x);
        checkChannel("gamma", gamma, x, c, true);
        checkChannel("beta", beta, x, c, true);
        checkChannel("runningMean", runningMean, x, c, false);
        checkChannel("runningVar", runningVar, x, c, false);
        if (!(eps > 0)) throw new IllegalArgumentException("eps = " + eps + ", expected > 0");
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray(), out = new double[xs.length];
            long inner = xs.length / ((long) x.dim(0) * c);
            for (int i = 0; i < xs.length; i++) {
                int k = (int) ((i / inner) % c);
                double g = gamma == null ? 1 : gamma.getDouble(k), b = beta == null ? 0 : beta.getDouble(k);
                out[i] = (xs[i] - runningMean.getDouble(k)) / Math.sqrt(runningVar.getDouble(k) + eps) * g + b;
            }
            TensorArgs.store(y, out);
            return;
        }
        if (!TensorArgs.allContiguous(x, y)) {
            try (Tensor xc = x.copy(); Tensor yc = Tensor.zeros(DType.F32, y.shape())) {
                forwardInference(xc, gamma, beta, runningMean, runningVar, eps, yc);
                y.copyFrom(yc);
            }
            return;
        }
        long planes = (long) x.dim(0) * c, inner = x.numel() / Math.max(planes, 1);
        MemorySegment ch = Workspace.ofCurrentThread().doubles(SLOT_CHANNEL, 3L * c);
        for (int k = 0; k < c; k++) {
            double a = (gamma == null ? 1 : param(gamma, k)) / Math.sqrt(param(runningVar, k) + eps);
            ch.setAtIndex(ValueLayout.JAVA_DOUBLE, k, a);
            ch.setAtIndex(ValueLayout.JAVA_DOUBLE, c + k, param(runningMean, k));
            ch.setAtIndex(ValueLayout.JAVA_DOUBLE, 2L * c + k, beta == null ? 0 : param(beta, k));
        }
        applyAffine(x.segment(), TensorArgs.byteOffset(x), y.segment(), TensorArgs.byteOffset(y), ch, c, planes, inner,
                (int) Math.min(planes, tasks(Integer.MAX_VALUE, x.numel())));
    }

    /**
     * Backward of training-mode batch norm: with {@code x̂ = (x − saveMean)·saveInvStd},
     * {@code dbeta = Σ dy}, {@code dgamma = Σ dy·x̂},
     * {@code dx = gamma·saveInvStd/M · (M·dy − dbeta − x̂·dgamma)}. dgamma/dbeta overwritten (may be null).
     */
    public static void backward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor dx,
                                Tensor dgamma, Tensor dbeta) {
        backward(x, gamma, saveMean, saveInvStd, dy, null, dx, dgamma, dbeta);
    }

    /**
     * As above for a batch norm whose output went through a fused ReLU ({@code forwardTraining(…, relu = true)}):
     * {@code reluOutput} is that output, and dy is the gradient after the ReLU; the kernel applies the ReLU's
     * gradient ({@code dy} where {@code reluOutput > 0}, else 0) as it reads dy. Null: no ReLU.
     */
    public static void backward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor reluOutput,
                                Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, gamma, saveMean, saveInvStd, dy, reluOutput, null, dx, dgamma, dbeta);
    }

    /**
     * As above, where the float32 kernel tells where the ReLU was open from x and the coefficients the forward pass
     * saved ({@code reluCoefficients}, from {@link #forwardTraining(Tensor, Tensor, Tensor, Tensor, Tensor, double,
     * double, Tensor, Tensor, Tensor, boolean, Tensor)}; null: from {@code reluOutput}) — the same floats as the
     * output's, without reading it (one pass over an activation less: the kernel is bound by memory traffic). Other
     * paths (float64, non-contiguous) use {@code reluOutput}, which must then be given.
     */
    public static void backward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor reluOutput,
                                Tensor reluCoefficients, Tensor dx, Tensor dgamma, Tensor dbeta) {
        int c = checkX(x);
        if (reluCoefficients != null) requireCoefficients(reluCoefficients, x, c);
        TensorArgs.requireSameShape("dy", dy, "x", x);
        if (reluOutput != null) TensorArgs.requireSameShape("reluOutput", reluOutput, "x", x);
        TensorArgs.requireSameShape("dx", dx, "x", x);
        checkChannel("gamma", gamma, x, c, true);
        checkChannel("saveMean", saveMean, x, c, false);
        checkChannel("saveInvStd", saveInvStd, x, c, false);
        checkChannel("dgamma", dgamma, x, c, true);
        checkChannel("dbeta", dbeta, x, c, true);
        long m = x.numel() / Math.max(c, 1);
        boolean fromX = reluCoefficients != null && x.dtype() == DType.F32 && TensorArgs.allContiguous(x, dy, dx);
        if (reluCoefficients != null && !fromX && reluOutput == null)
            throw new IllegalArgumentException("batch-norm backward: reluOutput is needed (x " + TensorArgs.str(x)
                    + ", dy " + TensorArgs.str(dy) + ", dx " + TensorArgs.str(dx) + " take the general path), got null");
        if (!fromX && reluOutput != null && (x.dtype() == DType.F64 || !TensorArgs.allContiguous(x, dy, dx) || !reluOutput.isContiguous())) {
            try (Tensor masked = Tensor.zeros(dy.dtype(), dy.shape())) { // the ReLU's gradient first, then the plain path
                Activations.backward(ActivationFn.RELU, reluOutput, reluOutput, dy, masked);
                backward(x, gamma, saveMean, saveInvStd, masked, null, dx, dgamma, dbeta);
            }
            return;
        }
        if (x.dtype() == DType.F64) {
            backwardReference(x, gamma, saveMean, saveInvStd, dy, dx, dgamma, dbeta);
            return;
        }
        if (!TensorArgs.allContiguous(x, dy, dx)) {
            try (Tensor xc = x.copy(); Tensor gc = dy.copy(); Tensor dc = Tensor.zeros(DType.F32, dx.shape())) {
                backward(xc, gamma, saveMean, saveInvStd, gc, dc, dgamma, dbeta);
                dx.copyFrom(dc);
            }
            return;
        }
        int n = x.dim(0);
        long inner = m / Math.max(n, 1);
        MemorySegment xs = x.segment(), gs = dy.segment(), ds = dx.segment();
        long xo = TensorArgs.byteOffset(x), go = TensorArgs.byteOffset(dy), dso = TensorArgs.byteOffset(dx);
        MemorySegment ys = fromX || reluOutput == null ? null : reluOutput.segment();
        long yo = ys == null ? 0 : TensorArgs.byteOffset(reluOutput);
        MemorySegment rc = fromX ? reluCoefficients.segment() : null;
        long rco = fromX ? TensorArgs.byteOffset(reluCoefficients) : 0;
        int tasks = tasks(c, x.numel());
        int group = channelGroup(inner);
        BackwardJob job = BACKWARD_JOB.get();
        job.set(c, tasks, group, n, inner, m, xs, xo, gs, go, ds, dso, ys, yo, rc, rco, gamma, saveMean, saveInvStd,
                dgamma, dbeta);
        try {
            ComputePool.parallelFor(tasks, job);
        } finally {
            job.clear();
        }
    }

    /**
     * One task of the float32 training forward: its channels' statistics and output. A reusable object per calling
     * thread instead of a lambda, which captured some twenty values into a new object on every call.
     */
    private static final class ForwardJob implements java.util.function.IntConsumer {
        int c, tasks, group, n;
        long inner, m, xo, yo, rco;
        MemorySegment xs, ys, rc;
        Tensor gamma, beta, runningMean, runningVar, saveMean, saveInvStd;
        double momentum, eps;
        boolean relu;

        void set(int c, int tasks, int group, int n, long inner, long m, MemorySegment xs, long xo, MemorySegment ys, long yo,
                 MemorySegment rc, long rco, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                 Tensor saveMean, Tensor saveInvStd, double momentum, double eps, boolean relu) {
            this.c = c; this.tasks = tasks; this.group = group; this.n = n; this.inner = inner; this.m = m;
            this.xs = xs; this.xo = xo; this.ys = ys; this.yo = yo; this.rc = rc; this.rco = rco;
            this.gamma = gamma; this.beta = beta; this.runningMean = runningMean; this.runningVar = runningVar;
            this.saveMean = saveMean; this.saveInvStd = saveInvStd; this.momentum = momentum; this.eps = eps;
            this.relu = relu;
        }

        void clear() {
            xs = ys = rc = null;
            gamma = beta = runningMean = runningVar = saveMean = saveInvStd = null;
        }

        @Override
        public void accept(int t) {
            double[] sums = GROUP_SUMS.get();
            float[] coef = GROUP_COEFFICIENTS.get(); // per channel: mean (hi, lo), scale, shift
            for (int k0 = c * t / tasks, kEnd = c * (t + 1) / tasks; k0 < kEnd; k0 += group) {
                int k1 = Math.min(kEnd, k0 + group), gk = k1 - k0;
                long planeStride = 4L * c * inner;
                // channels [k0, k1) image by image (their planes are adjacent: one run per image), each channel's
                // sums over its n planes in image order: Σ x → mean, Σ (x − mean)² → var, then y (from cache)
                java.util.Arrays.fill(sums, 0, 2 * gk, 0.0);
                for (int i = 0; i < n; i++)
                    for (int k = k0; k < k1; k++) sums[k - k0] += PlaneF32.sum(xs, xo + 4L * k * inner + i * planeStride, inner);
                for (int i = 0; i < n; i++)
                    for (int k = k0; k < k1; k++) {
                        float mean = (float) (sums[k - k0] / m);
                        sums[gk + k - k0] += PlaneF32.sumSquaredDeviation(xs, xo + 4L * k * inner + i * planeStride, inner, mean);
                    }
                for (int k = k0; k < k1; k++) {
                    double mean = sums[k - k0] / m, var = sums[gk + k - k0] / m, invStd = 1 / Math.sqrt(var + eps);
                    if (saveMean != null) setParam(saveMean, k, mean);
                    if (saveInvStd != null) setParam(saveInvStd, k, invStd);
                    if (runningMean != null) setParam(runningMean, k, (1 - momentum) * param(runningMean, k) + momentum * mean);
                    if (runningVar != null) setParam(runningVar, k, (1 - momentum) * param(runningVar, k) + momentum * var * m / (m - 1));
                    double a = invStd * (gamma == null ? 1 : param(gamma, k));
                    int e = 4 * (k - k0);
                    coef[e] = (float) mean;
                    coef[e + 1] = (float) (mean - coef[e]);
                    coef[e + 2] = (float) a;
                    coef[e + 3] = beta == null ? 0f : (float) param(beta, k);
                    if (rc != null) MemorySegment.copy(coef, e, rc, ValueLayout.JAVA_FLOAT, rco + 16L * k, 4);
                }
                for (int i = 0; i < n; i++)
                    for (int k = k0; k < k1; k++) {
                        long xi = xo + 4L * k * inner + i * planeStride, yi = yo + 4L * k * inner + i * planeStride;
                        int e = 4 * (k - k0);
                        if (relu) PlaneF32.centredScaleShiftRelu(xs, xi, ys, yi, inner, coef[e], coef[e + 1], coef[e + 2], coef[e + 3]);
                        else PlaneF32.centredScaleShift(xs, xi, ys, yi, inner, coef[e], coef[e + 1], coef[e + 2], coef[e + 3]);
                    }
            }
        }
    }

    private static final ThreadLocal<ForwardJob> FORWARD_JOB = ThreadLocal.withInitial(ForwardJob::new);

    /** One task of the float32 backward: its channels' sums and input gradient (a reusable object, as ForwardJob). */
    private static final class BackwardJob implements java.util.function.IntConsumer {
        int c, tasks, group, n;
        long inner, m, xo, go, dso, yo, rco;
        MemorySegment xs, gs, ds, ys, rc;
        Tensor gamma, saveMean, saveInvStd, dgamma, dbeta;

        void set(int c, int tasks, int group, int n, long inner, long m, MemorySegment xs, long xo, MemorySegment gs, long go,
                 MemorySegment ds, long dso, MemorySegment ys, long yo, MemorySegment rc, long rco, Tensor gamma,
                 Tensor saveMean, Tensor saveInvStd, Tensor dgamma, Tensor dbeta) {
            this.c = c; this.tasks = tasks; this.group = group; this.n = n; this.inner = inner; this.m = m;
            this.xs = xs; this.xo = xo; this.gs = gs; this.go = go; this.ds = ds; this.dso = dso; this.ys = ys;
            this.yo = yo; this.rc = rc; this.rco = rco; this.gamma = gamma; this.saveMean = saveMean;
            this.saveInvStd = saveInvStd; this.dgamma = dgamma; this.dbeta = dbeta;
        }

        void clear() {
            xs = gs = ds = ys = rc = null;
            gamma = saveMean = saveInvStd = dgamma = dbeta = null;
        }

        @Override
        public void accept(int t) {
            double[] sums = GROUP_SUMS.get();
            for (int k0 = c * t / tasks, kEnd = c * (t + 1) / tasks; k0 < kEnd; k0 += group) {
                int k1 = Math.min(kEnd, k0 + group), gk = k1 - k0;
                long planeStride = 4L * c * inner;
                // channels [k0, k1) image by image (their planes are adjacent: one run per tensor and image), each
                // channel's sums over its n planes in image order: Σ dy and Σ dy·(x − mean), then dx from cache
                java.util.Arrays.fill(sums, 0, 2 * gk, 0.0);
                float[] open = rc == null ? null : GROUP_RELU_COEFFICIENTS.get(); // per channel: mean (hi, lo), scale, shift
                if (open != null) MemorySegment.copy(rc, ValueLayout.JAVA_FLOAT, rco + 16L * k0, open, 0, 4 * gk);
                for (int i = 0; i < n; i++)
                    for (int k = k0; k < k1; k++) {
                        long off = 4L * k * inner + i * planeStride;
                        float meanF = (float) param(saveMean, k);
                        if (open != null) {
                            int r = 4 * (k - k0);
                            sums[k - k0] += PlaneF32.sumReluOpen(gs, go + off, xs, xo + off, inner, open[r], open[r + 1], open[r + 2], open[r + 3]);
                            sums[gk + k - k0] += PlaneF32.dotCenteredReluOpen(gs, go + off, xs, xo + off, inner, meanF,
                                    open[r], open[r + 1], open[r + 2], open[r + 3]);
                        } else if (ys == null) {
                            sums[k - k0] += PlaneF32.sum(gs, go + off, inner);
                            sums[gk + k - k0] += PlaneF32.dotCentered(gs, go + off, xs, xo + off, inner, meanF);
                        } else {
                            sums[k - k0] += PlaneF32.sumMasked(gs, go + off, ys, yo + off, inner);
                            sums[gk + k - k0] += PlaneF32.dotCenteredMasked(gs, go + off, ys, yo + off, xs, xo + off, inner, meanF);
                        }
                    }
                float[] coef = GROUP_COEFFICIENTS.get(); // per channel: k1, k2, mean, k3
                for (int k = k0; k < k1; k++) {
                    double mean = param(saveMean, k), is = param(saveInvStd, k), g = gamma == null ? 1 : param(gamma, k);
                    double sdy = sums[k - k0], dg = sums[gk + k - k0] * is;
                    if (dgamma != null) setParam(dgamma, k, dg);
                    if (dbeta != null) setParam(dbeta, k, sdy);
                    int e = 4 * (k - k0);
                    coef[e] = (float) (g * is);
                    coef[e + 1] = (float) (-g * is * is * dg / m);
                    coef[e + 2] = (float) mean;
                    coef[e + 3] = (float) (-g * is * sdy / m);
                }
                for (int i = 0; i < n; i++)                 // dx = k1·dy + k2·(x − mean) + k3
                    for (int k = k0; k < k1; k++) {
                        long off = 4L * k * inner + i * planeStride;
                        int e = 4 * (k - k0);
                        if (open != null) {
                            PlaneF32.linear2ReluOpen(gs, go + off, xs, xo + off, ds, dso + off, inner, coef[e], coef[e + 1],
                                    coef[e + 2], coef[e + 3], open[e], open[e + 1], open[e + 2], open[e + 3]);
                        } else if (ys == null) PlaneF32.linear2(gs, go + off, xs, xo + off, ds, dso + off, inner, coef[e], coef[e + 1], coef[e + 2], coef[e + 3]);
                        else PlaneF32.linear2Masked(gs, go + off, ys, yo + off, xs, xo + off, ds, dso + off, inner,
                                coef[e], coef[e + 1], coef[e + 2], coef[e + 3]);
                    }
            }
        }
    }

    private static final ThreadLocal<BackwardJob> BACKWARD_JOB = ThreadLocal.withInitial(BackwardJob::new);

    /** Most channels a task takes through the passes together (and so the size of the per-thread group arrays). */
    private static final int MAX_GROUP = 16;
    /**
     * Bytes of adjacent planes a channel group spans per image and tensor. Small planes one channel at a time left the
     * prefetchers a new 1–4 KiB run per plane; in groups the planes of an image are one run. Cold inputs, batch 16,
     * 1 thread, backward with the ReLU mask: 32 ch at 32² 0.68 → 0.57 ms, 64 at 16² 0.50 → 0.31, 128 at 28²
     * 2.54 → 1.53, 64 at 56² 4.53 → 4.10; 16 and 32 KiB were slower, 128 KiB no faster.
     */
    private static final int GROUP_BYTES = 64 * 1024;
    private static final ThreadLocal<double[]> GROUP_SUMS = ThreadLocal.withInitial(() -> new double[2 * MAX_GROUP]);
    private static final ThreadLocal<float[]> GROUP_COEFFICIENTS = ThreadLocal.withInitial(() -> new float[4 * MAX_GROUP]);
    /** The backward's copy of a channel group's saved ReLU coefficients (see {@link #forwardTraining} with them). */
    private static final ThreadLocal<float[]> GROUP_RELU_COEFFICIENTS = ThreadLocal.withInitial(() -> new float[4 * MAX_GROUP]);

    /** Channels per group: as many planes of {@code inner} floats as fit in {@link #GROUP_BYTES}, at least one. */
    private static int channelGroup(long inner) {
        return (int) Math.max(1, Math.min(MAX_GROUP, GROUP_BYTES / (4 * inner)));
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Element k of a float [C] tensor (any stride), without varargs allocation. */
    private static double param(Tensor t, int k) {
        long e = t.offset() + k * t.stride(0);
        return t.dtype() == DType.F32 ? t.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e)
                : t.segment().getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, e);
    }

    /** Element k of a float [C] tensor (any stride) set to v, without varargs allocation. */
    private static void setParam(Tensor t, int k, double v) {
        long e = t.offset() + k * t.stride(0);
        if (t.dtype() == DType.F32) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e, (float) v);
        else t.segment().setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, e, v);
    }

    /** Tasks for work split by channel: one below 32 Ki elements, else one per pool thread (at most one per channel). */
    private static int tasks(int channels, long numel) {
        return (int) Math.max(1, Math.min(channels, numel < (1 << 15) ? 1 : ComputePool.threads()));
    }

    /** y = a_c·(x − mean_c) + beta_c per plane, from the channel table [a (c), mean (c), beta (c)]; centred (see PlaneF32). */
    private static void applyAffine(MemorySegment xs, long xo, MemorySegment ys, long yo, MemorySegment ch, int c,
                                    long planes, long inner, int tasks) {
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                int k = (int) (p % c);
                double mean = ch.getAtIndex(ValueLayout.JAVA_DOUBLE, c + k);
                float meanHi = (float) mean;
                PlaneF32.centredScaleShift(xs, xo + 4 * p * inner, ys, yo + 4 * p * inner, inner, meanHi, (float) (mean - meanHi),
                        (float) ch.getAtIndex(ValueLayout.JAVA_DOUBLE, k), (float) ch.getAtIndex(ValueLayout.JAVA_DOUBLE, 2L * c + k));
            }
        });
    }

    private static int checkX(Tensor x) {
        TensorArgs.requireFloat("x", x);
        if (x.rank() < 2) throw new IllegalArgumentException("x has shape " + TensorArgs.str(x) + ", expected [N, C] or [N, C, H, W]");
        if (x.dim(1) < 1) throw new IllegalArgumentException("x has shape " + TensorArgs.str(x) + ", expected C >= 1");
        return x.dim(1);
    }

    /** reluCoefficients: a contiguous float32 tensor of 4·C values (C = x's channels). */
    private static void requireCoefficients(Tensor t, Tensor x, int c) {
        if (t.dtype() != DType.F32 || t.numel() != 4L * c || !t.isContiguous())
            throw new IllegalArgumentException("reluCoefficients has " + TensorArgs.str(t) + ", expected a contiguous F32 tensor of "
                    + 4L * c + " values (4 per channel of x " + TensorArgs.str(x) + ")");
    }

    private static void checkChannel(String name, Tensor t, Tensor x, int c, boolean nullable) {
        if (t == null) {
            if (nullable) return;
            throw new IllegalArgumentException(name + " must not be null");
        }
        TensorArgs.requireSameDType(name, t, "x", x);
        if (t.rank() != 1 || t.dim(0) != c) { // the message only on failure: checked on every training step
            TensorArgs.requireShape(name, t, new int[] {c}, "[C] with C = x.dim(1) of x " + TensorArgs.str(x));
        }
    }

    // ------------------------------------------------------------------------------------------ float64 reference

    private static void trainingReference(Tensor xt, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                          double momentum, double eps, Tensor yt, Tensor saveMean, Tensor saveInvStd) {
        double[] x = xt.toDoubleArray(), y = new double[x.length];
        int n = xt.dim(0), c = xt.dim(1);
        int inner = x.length / (n * c), m = n * inner;
        for (int k = 0; k < c; k++) {
            double sum = 0;
            for (int i = 0; i < n; i++) for (int s = 0; s < inner; s++) sum += x[(i * c + k) * inner + s];
            double mean = sum / m;
            double sq = 0;
            for (int i = 0; i < n; i++) for (int s = 0; s < inner; s++) sq += Math.pow(x[(i * c + k) * inner + s] - mean, 2);
            double var = sq / m;                                  // biased, used to normalize
            double invStd = 1 / Math.sqrt(var + eps);
            double g = gamma == null ? 1 : gamma.getDouble(k), b = beta == null ? 0 : beta.getDouble(k);
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < inner; s++) {
                    int at = (i * c + k) * inner + s;
                    y[at] = (x[at] - mean) * invStd * g + b;
                }
            }
            if (saveMean != null) saveMean.set(mean, k);
            if (saveInvStd != null) saveInvStd.set(invStd, k);
            if (runningMean != null) runningMean.set((1 - momentum) * runningMean.getDouble(k) + momentum * mean, k);
            if (runningVar != null) runningVar.set((1 - momentum) * runningVar.getDouble(k) + momentum * sq / (m - 1), k);
        }
        TensorArgs.store(yt, y);
    }

    private static void backwardReference(Tensor xt, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dyt,
                                          Tensor dxt, Tensor dgamma, Tensor dbeta) {
        double[] x = xt.toDoubleArray(), dy = dyt.toDoubleArray(), dx = new double[x.length];
        int n = xt.dim(0), c = xt.dim(1);
        int inner = x.length / Math.max(n * c, 1), m = n * inner;
        for (int k = 0; k < c; k++) {
            double mean = saveMean.getDouble(k), is = saveInvStd.getDouble(k), g = gamma == null ? 1 : gamma.getDouble(k);
            double db = 0, dg = 0;
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < inner; s++) {
                    int at = (i * c + k) * inner + s;
                    db += dy[at];
                    dg += dy[at] * (x[at] - mean) * is;
                }
            }
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < inner; s++) {
                    int at = (i * c + k) * inner + s;
                    double xhat = (x[at] - mean) * is;
                    dx[at] = g * is / m * (m * dy[at] - db - xhat * dg);
                }
            }
            if (dgamma != null) dgamma.set(dg, k);
            if (dbeta != null) dbeta.set(db, k);
        }
        TensorArgs.store(dxt, dx);
    }
}
