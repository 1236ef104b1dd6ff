package tessera.explain;

import java.util.ArrayList;
import java.util.List;
import tessera.memory.Tensor;

/**
 * The first convolution's filters W [K, C, kH, kW] as a grid: with C = 3, one RGB tile per filter (normalized over
 * its three channels together); otherwise one gray tile per (filter, channel), a filter's channels side by side in
 * one row (C = 1: a near-square grid of the K filters).
 */
public final class Filters {
    private Filters() {}

    public static Grid grid(Explainable model) {
        try (Tensor w = model.firstConvolutionWeights()) {
            return grid(w);
        }
    }

    public static Grid grid(Tensor weights) {
        int[] s = weights.shape();
        if (s.length != 4) throw new IllegalArgumentException("filters must be [K, C, kH, kW], got " + java.util.Arrays.toString(s));
        int k = s[0], c = s[1], kh = s[2], kw = s[3], plane = kh * kw;
        float[] v = weights.toFloatArray();
        List<float[]> tiles = new ArrayList<>();
        if (c == 3) {
            for (int f = 0; f < k; f++) {
                float[] t = new float[plane * 3];
                for (int ch = 0; ch < 3; ch++) for (int i = 0; i < plane; i++) t[i * 3 + ch] = v[(f * 3 + ch) * plane + i];
                tiles.add(t);
            }
            return Grid.of(tiles, kh, kw, 3, Grid.squareColumns(k));
        }
        for (int f = 0; f < k * c; f++) tiles.add(java.util.Arrays.copyOfRange(v, f * plane, (f + 1) * plane));
        return Grid.of(tiles, kh, kw, 1, c == 1 ? Grid.squareColumns(k) : c);
    }
}
