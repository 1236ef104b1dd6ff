package tessera.zoo.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import tessera.layers.Model;
import tessera.layers.io.ModelFiles;
import tessera.layers.io.SafeTensors;

/**
 * A training run's directory: {@code model.safetensors} (spec + parameters + buffers, see {@link ModelFiles}),
 * {@code spec.json} (a readable copy of the spec), {@code history.csv} and {@code curves.png}.
 * Resuming restores weights, batch-norm statistics, the epoch count and the schedule position; optimizer moment
 * buffers (momentum, Adam averages) start again from zero.
 */
public final class Checkpoint {
    public static final String MODEL = "model.safetensors", HISTORY = "history.csv", SPEC = "spec.json";

    private Checkpoint() {}

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(MODEL)) && Files.isRegularFile(dir.resolve(HISTORY));
    }

    /** Writes the model and history atomically (temporary file + rename). */
    public static void save(Path dir, Model model, History history) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(MODEL + ".tmp");
        ModelFiles.save(model, tmp, Map.of("tessera.epochs", Integer.toString(history.epochs().size())));
        Files.move(tmp, dir.resolve(MODEL), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(dir.resolve(SPEC), model.spec().toJson());
        Files.writeString(dir.resolve(HISTORY), history.toCsv());
    }

    /** Restores {@code model}'s values from {@code dir} and returns the saved history. */
    public static History load(Path dir, Model model) throws IOException {
        try (SafeTensors.Contents c = SafeTensors.read(dir.resolve(MODEL))) {
            ModelFiles.restore(model, c.tensors(), dir.resolve(MODEL).toString());
        }
        return History.fromCsv(Files.readString(dir.resolve(HISTORY)));
    }

    /** The model saved in {@code dir} (or a .safetensors file); the caller closes it. */
    public static Model loadModel(Path dirOrFile) throws IOException {
        Path f = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(MODEL) : dirOrFile;
        if (!Files.isRegularFile(f)) throw new java.io.FileNotFoundException("no model file at " + f);
        return ModelFiles.load(f).eval();
    }
}
