package tessera.kernels.pool;

import java.util.List;
import java.util.Random;

/**
 * A random, valid pooling problem decoded from small integers (valid by construction; shrinking moves every
 * parameter towards its smallest value: 1×1 kernel, stride 1, no padding, batch 1, channel 1).
 */
record PoolCase(PoolSpec spec, int n, int c, int h, int w, long seed) {
    static final int GENES = 20;

    static PoolCase decode(List<Integer> g, PoolType type) {
        int kH = 1 + g.get(0) % 4, kW = 1 + g.get(1) % 4;
        int sH = 1 + g.get(2) % 3, sW = 1 + g.get(3) % 3;
        int dH = 1 + g.get(4) % 2, dW = 1 + g.get(5) % 2;
        int effH = (kH - 1) * dH + 1, effW = (kW - 1) * dW + 1;
        int pT = g.get(6) % (effH / 2 + 1), pB = g.get(7) % (effH / 2 + 1);
        int pL = g.get(8) % (effW / 2 + 1), pR = g.get(9) % (effW / 2 + 1);
        boolean ceil = g.get(10) % 2 == 1, includePad = g.get(11) % 2 == 1;
        int n = 1 + g.get(12) % 3, c = 1 + g.get(13) % 3;
        // input at least as large as the window: then every window overlaps the input
        int h = effH + g.get(14) % 9;
        int w = effW + g.get(15) % 45;
        PoolSpec s = new PoolSpec(type, kH, kW, sH, sW, pT, pL, pB, pR, dH, dW, ceil, includePad);
        return new PoolCase(s, n, c, h, w, g.get(16) * 1000L + g.get(17));
    }

    int outH() { return spec.outH(h); }
    int outW() { return spec.outW(w); }

    /** n·c·h·w distinct values (a shuffled ramp) so that max-pooling has no ties; exact in float32. */
    float[] distinctValues() {
        int count = n * c * h * w;
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (i - count / 2) * 0.25f;
        Random r = new Random(seed);
        for (int i = count - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i]; v[i] = v[j]; v[j] = t;
        }
        return v;
    }

    /** Uniform values in [-1, 1), away from 0 by at least 0.05 (keeps L2 away from its kink). */
    float[] uniformValues(long salt) {
        Random r = new Random(seed * 31 + salt);
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) v[i] = (r.nextBoolean() ? 1f : -1f) * (0.05f + 0.95f * r.nextFloat());
        return v;
    }

    float[] outputValues(long salt) {
        Random r = new Random(seed * 17 + salt);
        float[] v = new float[n * c * outH() * outW()];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }
}
