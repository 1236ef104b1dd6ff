package tessera.explain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a model file for explanation: an ONNX file ({@code .onnx}) or a saved model ({@code .safetensors}, or a directory holding {@code model.safetensors}). */
public final class Explainables {
    private Explainables() {}

    public static Explainable open(Path model) throws IOException {
        Path file = Files.isDirectory(model) ? model.resolve("model.safetensors") : model;
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".onnx")) return OnnxExplainable.load(file);
        if (name.endsWith(".safetensors")) return LayerModelExplainable.load(file);
        throw new IllegalArgumentException("model " + model + ": expected an ONNX file (.onnx) or a saved model (.safetensors, or a directory with model.safetensors)");
    }
}
