package tessera.explain;

import java.util.ArrayList;
import java.util.List;
import tessera.memory.Tensor;

/**
 * Occlusion sensitivity (Zeiler &amp; Fergus): a P×P patch of constant {@code fill} (all channels) is slid over the
 * image with stride S; each occluded copy is scored (in batches through {@link Explainable#scores}); the drop
 * S(x) − S(occluded) is credited to every pixel the patch covers, and each pixel's value is the mean drop of the
 * patches covering it. Patch origins are 0, S, 2S, … plus H − P (and W − P) so the last row and column are covered.
 */
public final class Occlusion {
    private Occlusion() {}

    /** Patch size, stride and fill value. */
    public record Config(int patch, int stride, float fill) {
        public Config {
            if (patch < 1) throw new IllegalArgumentException("patch must be >= 1, got " + patch);
            if (stride < 1) throw new IllegalArgumentException("stride must be >= 1, got " + stride);
        }

        /** Defaults scaled to the image: P = max(4, H/14) (16 at 224, 4 at 28), S = P/2, fill 0. */
        public static Config defaults(int height, int width) {
            int p = Math.max(4, Math.min(height, width) / 14);
            return new Config(p, Math.max(1, p / 2), 0f);
        }
    }

    public static Plane compute(Explainable model, Tensor x, Target target, Config config) {
        Images.checkOne(x, model.inputShape());
        int[] s = x.shape();
        int c = s[1], h = s[2], w = s[3], size = c * h * w;
        if (config.patch() > h || config.patch() > w) {
            throw new IllegalArgumentException("patch " + config.patch() + " is larger than the image " + h + "×" + w);
        }
        List<Integer> ys = origins(h, config), xs = origins(w, config);
        int total = ys.size() * xs.size(), batch = model.maxBatch();
        float[] v = x.toFloatArray();
        float base = target.score();
        double[] sum = new double[h * w];
        int[] count = new int[h * w];
        for (int first = 0; first < total; first += batch) {
            int n = Math.min(batch, total - first);
            float[] data = new float[n * size];
            for (int i = 0; i < n; i++) {
                System.arraycopy(v, 0, data, i * size, size);
                int py = ys.get((first + i) / xs.size()), px = xs.get((first + i) % xs.size());
                for (int ch = 0; ch < c; ch++) {
                    for (int yy = py; yy < py + config.patch(); yy++) {
                        int row = i * size + (ch * h + yy) * w;
                        java.util.Arrays.fill(data, row + px, row + px + config.patch(), config.fill());
                    }
                }
            }
            float[] scores;
            try (Tensor xb = Tensor.of(data, n, c, h, w); Tensor y = model.scores(xb)) {
                scores = y.toFloatArray();
            }
            for (int i = 0; i < n; i++) {
                double drop = base - scores[i * target.classes() + target.cls()];
                int py = ys.get((first + i) / xs.size()), px = xs.get((first + i) % xs.size());
                for (int yy = py; yy < py + config.patch(); yy++) {
                    for (int xx = px; xx < px + config.patch(); xx++) {
                        sum[yy * w + xx] += drop;
                        count[yy * w + xx]++;
                    }
                }
            }
        }
        float[] m = new float[h * w];
        for (int i = 0; i < m.length; i++) m[i] = count[i] == 0 ? 0 : (float) (sum[i] / count[i]);
        return new Plane(h, w, m);
    }

    /** Patch origins along an axis of length n: 0, S, 2S, … ≤ n − P, plus n − P if the stride skipped it. */
    static List<Integer> origins(int n, Config config) {
        List<Integer> r = new ArrayList<>();
        for (int o = 0; o <= n - config.patch(); o += config.stride()) r.add(o);
        if (r.getLast() != n - config.patch()) r.add(n - config.patch());
        return r;
    }
}
