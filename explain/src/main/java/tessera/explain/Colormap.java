package tessera.explain;

/**
 * A perceptually ordered colour scale from dark purple through blue, teal and green to yellow (viridis-like),
 * linear between five anchor colours; values are clamped to [0, 1].
 */
public final class Colormap {
    private static final float[][] ANCHORS = {
            {0.267f, 0.005f, 0.329f}, {0.229f, 0.322f, 0.546f}, {0.128f, 0.567f, 0.551f}, {0.369f, 0.789f, 0.383f}, {0.993f, 0.906f, 0.144f}};

    private Colormap() {}

    /** The colour of {@code t} as r, g, b in [0, 1]. */
    public static float[] rgb(double t) {
        double u = Math.max(0, Math.min(1, Double.isNaN(t) ? 0 : t)) * (ANCHORS.length - 1);
        int i = Math.min((int) u, ANCHORS.length - 2);
        float f = (float) (u - i);
        float[] a = ANCHORS[i], b = ANCHORS[i + 1];
        return new float[] {a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])};
    }
}
