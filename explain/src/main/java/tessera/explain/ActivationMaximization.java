package tessera.explain;

import java.util.Arrays;
import java.util.SplittableRandom;
import tessera.memory.Tensor;

/**
 * Activation maximization: gradient ascent on an input image, starting from seeded small noise, to raise a class
 * score or the mean of one channel of a layer. Each step: roll the image by a random jitter (dy, dx) in
 * [−J, J]², take the objective's gradient there and roll it back, step x += lr · g / rms(g) (a normalized step, so
 * lr is in input units per pixel), then decay x *= (1 − l2); every {@code blurEvery} steps, blur each channel with a
 * 3×3 Gaussian of σ = {@code blurSigma}. The same seed gives the same image.
 */
public final class ActivationMaximization {
    private ActivationMaximization() {}

    /** What to maximize: a class score (layer null) or the mean of channel {@code index} of {@code layer}. */
    public record Objective(String layer, int index) {
        public static Objective classScore(int cls) { return new Objective(null, cls); }

        public static Objective channel(String layer, int channel) { return new Objective(layer, channel); }

        public String describe() { return layer == null ? "class " + index : "channel " + index + " of layer '" + layer + "'"; }
    }

    /** Steps, step size, L2 decay, jitter J (pixels), blur period and σ, noise seed. */
    public record Config(int steps, double learningRate, double l2Decay, int jitter, int blurEvery, double blurSigma, long seed) {
        public Config {
            if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
            if (!(l2Decay >= 0 && l2Decay < 1)) throw new IllegalArgumentException("l2 decay must be in [0, 1), got " + l2Decay);
            if (jitter < 0) throw new IllegalArgumentException("jitter must be >= 0, got " + jitter);
            if (blurEvery < 0) throw new IllegalArgumentException("blurEvery must be >= 0 (0 = never), got " + blurEvery);
        }

        /** 50 steps, lr 0.05, decay 0.005, J = max(1, H/28), blur σ 0.5 every 4 steps. */
        public static Config defaults(int height, long seed) { return new Config(50, 0.05, 0.005, Math.max(1, height / 28), 4, 0.5, seed); }

        public Config withSteps(int n) { return new Config(n, learningRate, l2Decay, jitter, blurEvery, blurSigma, seed); }
    }

    /**
     * The synthesized image [1, C, H, W] (row-major values), the objective at each step's (jittered) image, and the
     * objective at the final image.
     */
    public record Result(float[] image, int[] shape, double[] trace, double initial, double last) {
        public Tensor toTensor() { return Tensor.of(image, shape); }
    }

    /**
     * @param shape the image shape [1, C, H, W] (the model's declared sizes where it declares them)
     */
    public static Result run(Explainable model, int[] shape, Objective objective, Config config) {
        if (shape.length != 4 || shape[0] != 1) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " must be [1, C, H, W]");
        int c = shape[1], h = shape[2], w = shape[3];
        SplittableRandom random = new SplittableRandom(config.seed());
        float[] x = new float[c * h * w];
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.1 * (2 * random.nextDouble() - 1));
        double initial = value(model, x, shape, objective);
        double[] trace = new double[config.steps()];
        try (Tensor x0 = Tensor.of(x, shape); Tensor seed = seedFor(model, x0, objective)) {
            for (int t = 0; t < config.steps(); t++) {
                int dy = config.jitter() == 0 ? 0 : random.nextInt(-config.jitter(), config.jitter() + 1);
                int dx = config.jitter() == 0 ? 0 : random.nextInt(-config.jitter(), config.jitter() + 1);
                float[] g;
                try (Tensor xt = Tensor.of(roll(x, c, h, w, dy, dx), shape); Pass p = model.backward(xt, objective.layer(), seed, null)) {
                    trace[t] = objectiveOf(p.output(), objective);
                    g = roll(p.inputGradient().toFloatArray(), c, h, w, -dy, -dx);
                }
                double ss = 0;
                for (float v : g) ss += (double) v * v;
                double rms = Math.sqrt(ss / g.length);
                if (rms > 0) for (int i = 0; i < x.length; i++) x[i] += (float) (config.learningRate() * g[i] / rms);
                float keep = (float) (1 - config.l2Decay());
                for (int i = 0; i < x.length; i++) x[i] *= keep;
                if (config.blurEvery() > 0 && (t + 1) % config.blurEvery() == 0) blur(x, c, h, w, config.blurSigma());
            }
        }
        return new Result(x, shape.clone(), trace, initial, value(model, x, shape, objective));
    }

    private static double value(Explainable model, float[] x, int[] shape, Objective objective) {
        try (Tensor xt = Tensor.of(x, shape)) {
            if (objective.layer() == null) {
                try (Tensor y = model.scores(xt)) {
                    checkClass(objective, y.dim(1));
                    return y.getFloat(0, objective.index());
                }
            }
            try (Tensor a = model.activation(xt, objective.layer())) {
                checkChannel(objective, a.shape());
                return objectiveOf(a, objective);
            }
        }
    }

    /** The output gradient that makes Σ value⊙seed the objective. */
    private static Tensor seedFor(Explainable model, Tensor x, Objective objective) {
        if (objective.layer() == null) {
            try (Tensor y = model.scores(x)) {
                checkClass(objective, y.dim(1));
                return Images.oneHot(1, y.dim(1), objective.index());
            }
        }
        int[] s;
        try (Tensor a = model.activation(x, objective.layer())) {
            s = a.shape();
        }
        checkChannel(objective, s);
        int plane = s[2] * s[3];
        float[] v = new float[s[1] * plane];
        Arrays.fill(v, objective.index() * plane, (objective.index() + 1) * plane, 1f / plane);
        return Tensor.of(v, s);
    }

    private static double objectiveOf(Tensor out, Objective objective) {
        if (objective.layer() == null) return out.getFloat(0, objective.index());
        int[] s = out.shape();
        float[] v = out.toFloatArray();
        int plane = s[2] * s[3];
        double sum = 0;
        for (int i = objective.index() * plane; i < (objective.index() + 1) * plane; i++) sum += v[i];
        return sum / plane;
    }

    private static void checkClass(Objective o, int classes) {
        if (o.index() < 0 || o.index() >= classes) {
            throw new IllegalArgumentException("class " + o.index() + " is out of range: the model scores " + classes + " classes (0.." + (classes - 1) + ")");
        }
    }

    private static void checkChannel(Objective o, int[] s) {
        if (s.length != 4) throw new IllegalArgumentException("layer '" + o.layer() + "' has output shape " + Arrays.toString(s) + "; maximizing a channel needs [1, C, h, w]");
        if (o.index() < 0 || o.index() >= s[1]) {
            throw new IllegalArgumentException("channel " + o.index() + " is out of range: layer '" + o.layer() + "' has " + s[1] + " channels (0.." + (s[1] - 1) + ")");
        }
    }

    /** Each channel of x [C, H, W] shifted cyclically by (dy, dx). */
    static float[] roll(float[] x, int c, int h, int w, int dy, int dx) {
        if (dy == 0 && dx == 0) return x.clone();
        float[] r = new float[x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int ty = Math.floorMod(y + dy, h);
                for (int xx = 0; xx < w; xx++) r[(ch * h + ty) * w + Math.floorMod(xx + dx, w)] = x[(ch * h + y) * w + xx];
            }
        }
        return r;
    }

    /** In-place separable 3×3 Gaussian blur per channel, edges clamped. */
    static void blur(float[] x, int c, int h, int w, double sigma) {
        double e = Math.exp(-1 / (2 * sigma * sigma));
        float k1 = (float) (e / (1 + 2 * e)), k0 = (float) (1 / (1 + 2 * e));
        float[] t = new float[h * w];
        for (int ch = 0; ch < c; ch++) {
            int o = ch * h * w;
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    t[y * w + xx] = k0 * x[o + y * w + xx] + k1 * (x[o + y * w + Math.max(xx - 1, 0)] + x[o + y * w + Math.min(xx + 1, w - 1)]);
                }
            }
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    x[o + y * w + xx] = k0 * t[y * w + xx] + k1 * (t[Math.max(y - 1, 0) * w + xx] + t[Math.min(y + 1, h - 1) * w + xx]);
                }
            }
        }
    }
}
