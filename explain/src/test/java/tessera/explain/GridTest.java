package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;

/** Filter and activation grids: layout, per-tile normalization, background lines. */
class GridTest {
    @TempDir Path dir;

    @Test
    void filtersOfTheFirstConvolutionAreNormalizedTiles() {
        // CAM_W: filter 0 = [[1,0],[0,1]], filter 1 = [[0,1],[1,0]]: a 1×2 grid of 2×2 tiles with one line between
        try (Explainable m = Models.camLayers()) {
            Grid g = Filters.grid(m);
            assertEquals(2, g.height());
            assertEquals(5, g.width());
            assertArrayEquals(new float[] {1, 0, 1, 0, 1, 0, 1, 1, 1, 0}, g.values(), 0f);
        }
    }

    @Test
    void rgbFiltersKeepTheirChannelsTogether() {
        float[] w = new float[2 * 3];  // K = 2 filters of 3 channels, 1×1
        for (int i = 0; i < w.length; i++) w[i] = i;
        try (Tensor t = Tensor.of(w, 2, 3, 1, 1)) {
            Grid g = Filters.grid(t);
            assertEquals(3, g.channels());
            assertArrayEquals(new float[] {0, 0.5f, 1, 1, 1, 1, 0, 0.5f, 1}, g.values(), 1e-6f);
        }
    }

    @Test
    void activationMapsAreOneTilePerChannel() {
        try (Explainable m = OnnxExplainable.load(Models.masked(dir)); Tensor x = Models.maskedInput()) {
            Grid g = ActivationMaps.grid(m, x, "c2");
            // 4 channels of 20×20 in a 2×2 grid with 1-pixel lines
            assertEquals(41, g.height());
            assertEquals(41, g.width());
            for (int y = 0; y < 41; y++) assertEquals(1f, g.values()[y * 41 + 20]);
            try (Tensor a = m.activation(x, "c2")) {
                float[] v = a.toFloatArray();
                float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
                for (int i = 0; i < 400; i++) {
                    lo = Math.min(lo, v[i]);
                    hi = Math.max(hi, v[i]);
                }
                assertEquals((v[5 * 20 + 7] - lo) / (hi - lo), g.values()[5 * 41 + 7], 1e-6f);
            }
        }
    }
}
