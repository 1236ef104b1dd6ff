package tessera.explain;

import java.util.SplittableRandom;
import tessera.memory.Tensor;

/**
 * Gradient saliency of a class score S with respect to one input image x [1, C, H, W], as maps [H, W]:
 * <ul>
 *   <li>{@link #vanilla}: max over channels of |∂S/∂x|;</li>
 *   <li>{@link #smoothGrad}: the vanilla map averaged over copies of x with Gaussian noise (seeded);</li>
 *   <li>{@link #gradientTimesInput}: |Σ over channels of x ⊙ ∂S/∂x|.</li>
 * </ul>
 */
public final class Saliency {
    /** SmoothGrad's default number of noisy copies and noise level (σ as a fraction of x's value range). */
    public static final int DEFAULT_SAMPLES = 25;
    public static final double DEFAULT_NOISE = 0.15;

    private Saliency() {}

    public static Plane vanilla(Explainable model, Tensor x, Target target) {
        Images.checkOne(x, model.inputShape());
        return maxAbsOverChannels(inputGradient(model, x, 1, target), 0, x.shape());
    }

    public static Plane gradientTimesInput(Explainable model, Tensor x, Target target) {
        Images.checkOne(x, model.inputShape());
        float[] g = inputGradient(model, x, 1, target), v = x.toFloatArray();
        int[] s = x.shape();
        int c = s[1], hw = s[2] * s[3];
        float[] m = new float[hw];
        for (int i = 0; i < hw; i++) {
            double sum = 0;
            for (int ch = 0; ch < c; ch++) sum += (double) g[ch * hw + i] * v[ch * hw + i];
            m[i] = (float) Math.abs(sum);
        }
        return new Plane(s[2], s[3], m);
    }

    /**
     * @param samples noisy copies (≥ 1), run in batches of up to {@link Explainable#maxBatch()}
     * @param noise   σ as a fraction of (max − min) of x
     * @param seed    the noise seed: the same seed gives the same map
     */
    public static Plane smoothGrad(Explainable model, Tensor x, Target target, int samples, double noise, long seed) {
        Images.checkOne(x, model.inputShape());
        if (samples < 1) throw new IllegalArgumentException("samples must be >= 1, got " + samples);
        if (!(noise >= 0)) throw new IllegalArgumentException("noise must be >= 0, got " + noise);
        int[] s = x.shape();
        int size = s[1] * s[2] * s[3];
        float[] v = x.toFloatArray();
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float f : v) {
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        double sigma = noise * (hi - lo);
        SplittableRandom random = new SplittableRandom(seed);
        float[] sum = new float[s[2] * s[3]];
        for (int done = 0; done < samples; ) {
            int n = Math.min(Math.min(model.maxBatch(), 8), samples - done);
            float[] batch = new float[n * size];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < size; j++) batch[i * size + j] = (float) (v[j] + sigma * gaussian(random));
            }
            float[] g;
            try (Tensor xb = Tensor.of(batch, n, s[1], s[2], s[3])) {
                g = inputGradient(model, xb, n, target);
            }
            for (int i = 0; i < n; i++) {
                float[] m = maxAbsOverChannels(g, i * size, s).values();
                for (int p = 0; p < m.length; p++) sum[p] += m[p];
            }
            done += n;
        }
        for (int p = 0; p < sum.length; p++) sum[p] /= samples;
        return new Plane(s[2], s[3], sum);
    }

    /** ∂(Σ over rows of S_target)/∂x for a batch of n rows, flattened. */
    static float[] inputGradient(Explainable model, Tensor x, int n, Target target) {
        try (Tensor seed = Images.oneHot(n, target.classes(), target.cls());
             Pass p = model.backward(x, null, seed, null)) {
            return p.inputGradient().toFloatArray();
        }
    }

    private static Plane maxAbsOverChannels(float[] g, int offset, int[] s) {
        int c = s[1], hw = s[2] * s[3];
        float[] m = new float[hw];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < hw; i++) m[i] = Math.max(m[i], Math.abs(g[offset + ch * hw + i]));
        }
        return new Plane(s[2], s[3], m);
    }

    /** A standard normal draw (Box–Muller; one value per call keeps the stream simple to reproduce). */
    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }
}
