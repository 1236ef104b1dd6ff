package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;

/**
 * Grad-CAM on a tiny net computed by hand. x = [[1,2,0],[0,1,3],[2,0,1]]; conv without padding or bias, filter 0 =
 * [[1,0],[0,1]] (x[i][j] + x[i+1][j+1]), filter 1 = [[0,1],[1,0]] (x[i][j+1] + x[i+1][j]):
 * A0 = [[2,5],[0,2]], A1 = [[2,1],[3,3]]. Scores: S0 = 0.5·ΣA = 9, S1 = ΣA0 − A1[0][0] − A1[1][1] = 9 − 5 = 4.
 * Class 1: ∂S1/∂A0 = 1 everywhere (α0 = 1), ∂S1/∂A1 = [[-1,0],[0,-1]] (α1 = −0.5), so the map is
 * ReLU(A0 − 0.5·A1) = ReLU([[1, 4.5],[−1.5, 0.5]]) = [[1, 4.5],[0, 0.5]]. Class 0: α0 = α1 = 0.5, map
 * 0.5·(A0 + A1) = [[2, 3],[1.5, 2.5]].
 */
class GradCamTest {
    @TempDir Path dir;

    private void check(Explainable m) {
        try (Tensor x = Tensor.of(Models.CAM_X, 1, 1, 3, 3)) {
            Target predicted = Target.resolve(m, x, null);
            assertEquals(0, predicted.cls());
            assertEquals(9, predicted.score(), 1e-6);
            GradCam.Result c1 = GradCam.compute(m, x, Target.resolve(m, x, 1), null);
            assertArrayEquals(new float[] {1, 4.5f, 0, 0.5f}, c1.coarse().values(), 1e-6f, m.getClass().getSimpleName());
            GradCam.Result c0 = GradCam.compute(m, x, predicted, null);
            assertArrayEquals(new float[] {2, 3, 1.5f, 2.5f}, c0.coarse().values(), 1e-6f, m.getClass().getSimpleName());
            // resized to 3×3 with half-pixel centres: the centre pixel samples (0.5, 0.5), the mean of the four values
            assertEquals(3, c0.map().height());
            assertEquals(2.25f, c0.map().at(1, 1), 1e-6f);
            assertEquals(2f, c0.map().at(0, 0), 1e-6f);
        }
    }

    @Test
    void onnxMatchesTheHandComputedMap() {
        try (Explainable m = OnnxExplainable.load(Models.camOnnx(dir))) {
            assertEquals(java.util.List.of("conv"), m.convolutions());
            check(m);
        }
    }

    @Test
    void layerModelMatchesTheHandComputedMap() {
        try (Explainable m = Models.camLayers()) {
            assertEquals(java.util.List.of("0"), m.convolutions());
            check(m);
        }
    }
}
