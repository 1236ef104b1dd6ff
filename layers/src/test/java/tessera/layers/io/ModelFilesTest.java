package tessera.layers.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/** save → load restores every parameter and buffer bit for bit, with the spec; corrupt files are rejected. */
class ModelFilesTest {
    static final ModelSpec SPEC = ModelSpec.parse("""
            {"name": "small", "input": [1, 6, 6], "layers": [
              {"type": "Conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
              {"type": "Flatten"}, {"type": "Linear", "out_features": 4}]}""");

    @Test
    void saveLoadIsExact(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.safetensors");
        try (Model m = Model.build(SPEC, DType.F32, 5)) {
            RandomFill.uniform(m.buffers().get("1.running_mean"), 9, -1, 1);
            ModelFiles.save(m, f);
            try (Model back = ModelFiles.load(f)) {
                assertEquals(SPEC.toJson(), back.spec().toJson());
                Map<String, Tensor> a = ModelFiles.stateDict(m), b = ModelFiles.stateDict(back);
                assertEquals(a.keySet(), b.keySet());
                for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), 0f, k);
            }
        }
    }

    @Test
    void truncatedFileIsRejectedClearly(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.safetensors");
        try (Model m = Model.build(SPEC, DType.F32, 5)) {
            ModelFiles.save(m, f);
        }
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 7));
        assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(f));
    }
}
