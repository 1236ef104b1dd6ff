package tessera.explain;

import java.util.List;
import tessera.memory.Tensor;

/**
 * Tiles in a grid, each tile normalized to [0, 1] on its own (min → 0, max → 1; a constant tile is 0), separated
 * by 1-pixel lines of value 1. Values are row-major {@code [height, width]} for gray grids and
 * {@code [height, width, 3]} (RGB) for colour grids.
 */
public record Grid(int height, int width, int channels, float[] values) {
    public Grid {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("a grid has 1 or 3 channels, got " + channels);
        if (values.length != (long) height * width * channels) throw new IllegalArgumentException("grid " + height + "×" + width + "×" + channels + " needs that many values");
    }

    /** The grid as float32 [H, W] (gray) or [H, W, 3] (RGB), owned by the caller. */
    public Tensor toTensor() { return channels == 1 ? Tensor.of(values, height, width) : Tensor.of(values, height, width, 3); }

    /**
     * Lays out {@code tiles} (each th × tw × channels, HWC row-major, normalized here) in rows of {@code columns}.
     */
    public static Grid of(List<float[]> tiles, int th, int tw, int channels, int columns) {
        if (tiles.isEmpty()) throw new IllegalArgumentException("a grid needs at least one tile");
        int rows = (tiles.size() + columns - 1) / columns;
        int h = rows * (th + 1) - 1, w = columns * (tw + 1) - 1;
        float[] v = new float[h * w * channels];
        java.util.Arrays.fill(v, 1f);
        for (int t = 0; t < tiles.size(); t++) {
            float[] tile = normalized(tiles.get(t));
            int oy = (t / columns) * (th + 1), ox = (t % columns) * (tw + 1);
            for (int y = 0; y < th; y++) {
                System.arraycopy(tile, y * tw * channels, v, ((oy + y) * w + ox) * channels, tw * channels);
            }
            // the unused cells of the last row stay 1 (background)
        }
        return new Grid(h, w, channels, v);
    }

    /** Columns for a near-square grid of n tiles: ⌈√n⌉. */
    public static int squareColumns(int n) { return (int) Math.ceil(Math.sqrt(n)); }

    static float[] normalized(float[] t) {
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float f : t) {
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        float[] r = new float[t.length];
        if (hi > lo) for (int i = 0; i < t.length; i++) r[i] = (t[i] - lo) / (hi - lo);
        return r;
    }
}
