package tessera.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/** {@code tessera infer --model M.onnx --input X.npy --output Y.npy [--threads T]}: first output as float32 .npy. */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Run an ONNX model on a float32 .npy input and write its first output as float32 .npy.")
public final class InferCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "ONNX model file") Path model;
    @Option(names = "--input", required = true, description = "input tensor (.npy, float32 or float64)") Path input;
    @Option(names = "--output", required = true, description = "where to write the first output (.npy, float32)") Path output;
    @Option(names = "--threads", defaultValue = "0", description = "intra-op threads (default: all cores)") int threads;

    @Override
    public Integer call() {
        return CliErrors.run("infer", () -> {
            if (threads < 0) throw new IllegalArgumentException("--threads " + threads + " must be >= 1");
            try (InferenceSession s = InferenceSession.load(model, SessionOptions.DEFAULT.withThreads(threads));
                 Tensor raw = Npy.read(input)) {
                Tensor x = raw.dtype() == DType.F32 ? raw : raw.to(DType.F32);
                try (Tensor y = s.run(x)) {
                    Npy.write(y, output);
                } finally {
                    if (x != raw) x.close();
                }
            }
        });
    }
}
