package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;

/**
 * On a model whose scores depend only on one region of the input (the input is multiplied by a fixed mask before the
 * convolutions), every attribution puts at least 90% of its mass inside the region, allowing each method's border:
 * none for gradients (they are exactly zero outside), the last convolution's receptive-field border (2 pixels
 * for two 3×3 convolutions) for Grad-CAM, and patch − 1 pixels for occlusion (a patch overlapping the region
 * credits its whole area).
 */
class MaskedRegionTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void write() { model = Models.masked(dir); }

    private static void assertInside(Plane map, int border, String method) {
        double share = map.massInside(Models.region(border));
        assertTrue(share >= 0.9, method + ": " + share + " of the mass inside the region (border " + border + ")");
    }

    @Test
    void gradientMethodsStayInsideTheRegion() {
        try (Explainable m = OnnxExplainable.load(model); Tensor x = Models.maskedInput()) {
            for (int cls = 0; cls < 3; cls++) {
                Target t = Target.resolve(m, x, cls);
                assertInside(Saliency.vanilla(m, x, t), 0, "saliency class " + cls);
                assertInside(Saliency.gradientTimesInput(m, x, t), 0, "gradient × input class " + cls);
                assertInside(Saliency.smoothGrad(m, x, t, 10, 0.15, 5), 0, "smoothgrad class " + cls);
            }
        }
    }

    @Test
    void gradCamAtEitherConvolutionStaysInsideTheRegionAndItsBorder() {
        try (Explainable m = OnnxExplainable.load(model); Tensor x = Models.maskedInput()) {
            Target t = Target.resolve(m, x, null);
            GradCam.Result last = GradCam.compute(m, x, t, null);
            assertTrue(last.layer().equals("c2"), last.layer());
            assertInside(last.map(), 2, "Grad-CAM at c2");
            assertInside(GradCam.compute(m, x, t, "c1").map(), 1, "Grad-CAM at c1");
        }
    }

    @Test
    void occlusionStaysInsideTheRegionAndThePatchBorder() {
        try (Explainable m = OnnxExplainable.load(model); Tensor x = Models.maskedInput()) {
            Target t = Target.resolve(m, x, null);
            assertInside(Occlusion.compute(m, x, t, new Occlusion.Config(4, 2, 0f)), 3, "occlusion 4/2");
            assertInside(Occlusion.compute(m, x, t, new Occlusion.Config(3, 3, -1f)), 2, "occlusion 3/3 fill -1");
        }
    }
}
