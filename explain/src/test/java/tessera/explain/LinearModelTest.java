package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;

/**
 * On a linear model S_k = Σ W_k·x + b_k over x [1, 2, 6, 6], as an ONNX file and as layers: saliency is max over
 * channels of |W_k|, gradient × input is |Σ_c W_k,c ⊙ x_c|, and occlusion with non-overlapping patches is exactly
 * the analytic drop Σ_{c, p ∈ patch} W_k,c,p · (x_c,p − fill) at every pixel of the patch.
 */
class LinearModelTest {
    @TempDir Path dir;

    private static Tensor input() { return Tensor.of(TinyOnnx.values(72, 11, -2, 2), 1, 2, 6, 6); }

    private static float w(int k, int c, int y, int x) { return Models.LINEAR_W[k * 72 + c * 36 + y * 6 + x]; }

    private void forBoth(java.util.function.Consumer<Explainable> check) {
        Path onnx = Models.linearOnnx(dir);
        for (Supplier<Explainable> s : java.util.List.<Supplier<Explainable>>of(() -> OnnxExplainable.load(onnx), Models::linearLayers)) {
            try (Explainable m = s.get()) {
                check.accept(m);
            }
        }
    }

    @Test
    void saliencyIsTheAbsoluteWeight() {
        forBoth(m -> {
            try (Tensor x = input()) {
                for (int k = 0; k < 3; k++) {
                    Plane s = Saliency.vanilla(m, x, Target.resolve(m, x, k));
                    for (int y = 0; y < 6; y++) {
                        for (int xx = 0; xx < 6; xx++) {
                            assertEquals(Math.max(Math.abs(w(k, 0, y, xx)), Math.abs(w(k, 1, y, xx))), s.at(y, xx), 1e-6, m.getClass().getSimpleName() + " class " + k);
                        }
                    }
                }
            }
        });
    }

    @Test
    void gradientTimesInputIsTheAbsoluteContribution() {
        forBoth(m -> {
            try (Tensor x = input()) {
                Plane s = Saliency.gradientTimesInput(m, x, Target.resolve(m, x, 1));
                for (int y = 0; y < 6; y++) {
                    for (int xx = 0; xx < 6; xx++) {
                        double e = Math.abs(w(1, 0, y, xx) * x.getFloat(0, 0, y, xx) + w(1, 1, y, xx) * x.getFloat(0, 1, y, xx));
                        assertEquals(e, s.at(y, xx), 1e-5, m.getClass().getSimpleName());
                    }
                }
            }
        });
    }

    @Test
    void occlusionIsTheAnalyticScoreDrop() {
        forBoth(m -> {
            try (Tensor x = input()) {
                for (int k = 0; k < 3; k++) {
                    float fill = 0.25f;
                    Plane o = Occlusion.compute(m, x, Target.resolve(m, x, k), new Occlusion.Config(2, 2, fill));
                    for (int py = 0; py < 6; py += 2) {
                        for (int px = 0; px < 6; px += 2) {
                            double drop = 0;
                            for (int c = 0; c < 2; c++) {
                                for (int y = py; y < py + 2; y++) for (int xx = px; xx < px + 2; xx++) drop += w(k, c, y, xx) * (x.getFloat(0, c, y, xx) - fill);
                            }
                            for (int y = py; y < py + 2; y++) {
                                for (int xx = px; xx < px + 2; xx++) assertEquals(drop, o.at(y, xx), 1e-5 * (1 + Math.abs(drop)), m.getClass().getSimpleName() + " class " + k);
                            }
                        }
                    }
                }
            }
        });
    }

    @Test
    void overlappingPatchesAverageTheirDrops() {
        // 4×4 patches, stride 2 on 6×6: origins 0 and 2 per axis; pixel (0, 0) is covered by the patch at (0, 0) only,
        // pixel (2, 2) by all four, so its value is the mean of the four drops
        forBoth(m -> {
            try (Tensor x = input()) {
                Plane o = Occlusion.compute(m, x, Target.resolve(m, x, 0), new Occlusion.Config(4, 2, 0f));
                double[] drops = new double[4];
                int i = 0;
                for (int py = 0; py <= 2; py += 2) {
                    for (int px = 0; px <= 2; px += 2, i++) {
                        for (int c = 0; c < 2; c++) for (int y = py; y < py + 4; y++) for (int xx = px; xx < px + 4; xx++) drops[i] += w(0, c, y, xx) * x.getFloat(0, c, y, xx);
                    }
                }
                assertEquals(drops[0], o.at(0, 0), 1e-5 * (1 + Math.abs(drops[0])));
                double mean = (drops[0] + drops[1] + drops[2] + drops[3]) / 4;
                assertEquals(mean, o.at(2, 2), 1e-5 * (1 + Math.abs(mean)));
                assertEquals((drops[1] + drops[3]) / 2, o.at(3, 5), 1e-5 * (1 + Math.abs(mean)));
            }
        });
    }
}
