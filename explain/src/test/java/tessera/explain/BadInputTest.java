package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Messages;
import tessera.memory.Tensor;

/** Bad requests fail with one clear line naming what was given and what is valid. */
class BadInputTest {
    @TempDir Path dir;

    private static void oneLine(Exception e, String... parts) {
        assertTrue(Messages.isOneLine(e.getMessage()), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void unknownLayerListsTheValidOnes() {
        try (Explainable m = OnnxExplainable.load(Models.masked(dir)); Tensor x = Models.maskedInput()) {
            var e = assertThrows(UnknownLayerException.class, () -> ActivationMaps.grid(m, x, "conv9"));
            oneLine(e, "'conv9'", "masking", "c1", "r1", "c2", "fc");
            assertEquals(m.layers(), e.valid());
            var e2 = assertThrows(UnknownLayerException.class, () -> GradCam.compute(m, x, Target.resolve(m, x, null), "c3"));
            oneLine(e2, "unknown convolution 'c3'", "c1, c2");
            var e3 = assertThrows(IllegalArgumentException.class, () -> GradCam.compute(m, x, Target.resolve(m, x, null), "r1"));
            oneLine(e3, "'r1' is not a convolution", "c1, c2");
        }
        try (Explainable m = Models.linearLayers(); Tensor x = Tensor.zeros(1, 2, 6, 6)) {
            var e = assertThrows(UnknownLayerException.class, () -> ActivationMaps.grid(m, x, "5"));
            oneLine(e, "'5'", "0, 1");
        }
    }

    @Test
    void classOutOfRange() {
        try (Explainable m = Models.linearLayers(); Tensor x = Tensor.zeros(1, 2, 6, 6)) {
            oneLine(assertThrows(IllegalArgumentException.class, () -> Target.resolve(m, x, 3)), "class 3", "3 classes (0..2)");
            oneLine(assertThrows(IllegalArgumentException.class, () -> Target.resolve(m, x, -1)), "class -1");
        }
    }

    @Test
    void gradCamWithoutAConvolution() {
        try (Explainable m = Models.linearLayers(); Tensor x = Tensor.zeros(1, 2, 6, 6)) {
            oneLine(assertThrows(IllegalArgumentException.class, () -> GradCam.compute(m, x, Target.resolve(m, x, null), null)),
                    "Grad-CAM needs a convolution");
            oneLine(assertThrows(IllegalArgumentException.class, () -> Filters.grid(m)), "no Conv2d");
        }
    }

    @Test
    void wrongInputShape() {
        try (Explainable m = OnnxExplainable.load(Models.masked(dir)); Tensor x = Tensor.zeros(1, 3, 20, 20); Tensor two = Tensor.zeros(2, 2, 20, 20)) {
            oneLine(assertThrows(IllegalArgumentException.class, () -> Target.resolve(m, x, null)), "[1, 3, 20, 20]", "[1, 2, 20, 20]");
            oneLine(assertThrows(IllegalArgumentException.class, () -> Saliency.vanilla(m, two, new Target(0, 3, 0, true))), "[2, 2, 20, 20]", "one image");
        }
        try (Explainable m = Models.linearLayers(); Tensor x = Tensor.zeros(1, 2, 5, 6)) {
            oneLine(assertThrows(IllegalArgumentException.class, () -> Target.resolve(m, x, null)), "[1, 2, 5, 6]", "[1, 2, 6, 6]");
        }
    }

    @Test
    void activationMapsOfAVectorLayerAreRefused() {
        try (Explainable m = OnnxExplainable.load(Models.masked(dir)); Tensor x = Models.maskedInput()) {
            oneLine(assertThrows(IllegalArgumentException.class, () -> ActivationMaps.grid(m, x, "fc")), "'fc'", "[1, 3]", "feature map");
        }
    }

    @Test
    void aModelWithoutClassScoresIsRefused() {
        var spec = tessera.layers.ModelSpec.parse("""
                {"name": "features", "input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3}]}""");
        var m = tessera.layers.Model.build(spec, tessera.memory.DType.F32, 1);
        oneLine(assertThrows(IllegalArgumentException.class, () -> new LayerModelExplainable(m)), "[2, 6, 6]", "class scores [K]");
        assertThrows(IllegalStateException.class, () -> m.parameters().get("0.weight").value().toFloatArray(), "the refused model was not closed");
    }
}
