package tessera.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxLoader;

/**
 * {@code tessera vjp --model M.onnx --input X.npy --grad-output GY.npy --out DIR}: writes {@code DIR/input.npy} =
 * ∂(Σ Y⊙GY)/∂X and {@code DIR/<initializer-name>.npy} for every float initializer, float32, eval semantics.
 *
 * <p>File names: an initializer name is used as it is, except that the characters {@code / \ :} (unsafe in file
 * names) become {@code _}; e.g. {@code layer1/conv:0} → {@code layer1_conv_0.npy}. Two names that map to the same
 * file, or an initializer whose file would be {@code input.npy}, are an error (nothing is overwritten silently).
 */
@Command(name = "vjp", mixinStandardHelpOptions = true,
        description = "Vector-Jacobian product of an ONNX model in eval semantics: writes DIR/input.npy = d(sum(Y*GY))/dX "
                + "and DIR/<initializer-name>.npy for every float initializer ('/', backslash and ':' in names become '_').")
public final class VjpCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "ONNX model file") Path model;
    @Option(names = "--input", required = true, description = "input X (.npy, float32 or float64)") Path input;
    @Option(names = "--grad-output", required = true, description = "output gradient GY (.npy, the first output's shape)") Path gradOutput;
    @Option(names = "--out", required = true, description = "directory for the gradients (created if missing)") Path out;

    /** The file name used for initializer {@code name}: '/', '\' and ':' replaced by '_', otherwise unchanged. */
    public static String fileNameOf(String name) {
        return name.replace('/', '_').replace('\\', '_').replace(':', '_') + ".npy";
    }

    @Override
    public Integer call() {
        return CliErrors.run("vjp", () -> {
            try (OnnxGraph g = OnnxLoader.load(model);
                 Tensor x = Npy.read(input);
                 Tensor gy = Npy.read(gradOutput)) {
                Map<String, String> files = new HashMap<>();
                files.put("input.npy", "(the input gradient)");
                for (String name : g.floatInitializerNames()) {
                    String f = fileNameOf(name);
                    String prev = files.putIfAbsent(f, "initializer '" + name + "'");
                    if (prev != null) {
                        throw new IllegalArgumentException("initializer '" + name + "' would be written to " + f + ", which is already used by " + prev);
                    }
                }
                try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F32)) {
                    Files.createDirectories(out);
                    write(r.input(), out.resolve("input.npy"));
                    for (var e : r.initializers().entrySet()) write(e.getValue(), out.resolve(fileNameOf(e.getKey())));
                }
            }
        });
    }

    private static void write(Tensor t, Path file) throws java.io.IOException {
        if (t.dtype() == DType.F32) {
            Npy.write(t, file);
        } else {
            try (Tensor f = t.to(DType.F32)) {
                Npy.write(f, file);
            }
        }
    }
}
