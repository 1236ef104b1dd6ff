package tessera.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/** {@code tessera vjp} end to end on the ResNet-style fixture: files, names, float32, values against PyTorch. */
class VjpCommandTest {
    @TempDir Path dir;

    private Path resource(String name) throws Exception {
        Path p = dir.resolve(name.replace('/', '_'));
        try (InputStream in = VjpCommandTest.class.getResourceAsStream("/onnx/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static int run(ByteArrayOutputStream err, String... args) {
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new CommandLine(new TesseraCli()).execute(args);
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void writesInputAndEveryFloatInitializerGradient() throws Exception {
        Path model = resource("vjp/resnet_tiny.onnx"), x = resource("vjp/resnet_tiny.input.npy"), gy = resource("vjp/resnet_tiny.grad_output.npy");
        Path out = dir.resolve("grads");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = run(err, "vjp", "--model", model.toString(), "--input", x.toString(), "--grad-output", gy.toString(), "--out", out.toString());
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        Set<String> written = new TreeSet<>(), expected = new TreeSet<>();
        try (Stream<Path> s = Files.list(out)) { s.forEach(p -> written.add(p.getFileName().toString())); }
        try (InputStream in = VjpCommandTest.class.getResourceAsStream("/onnx/vjp/resnet_tiny.onnx")) {
            try (var g = tessera.onnx.OnnxLoader.parse(in.readAllBytes(), "resnet_tiny", tessera.onnx.OnnxLimits.DEFAULT)) {
                expected.add("input.npy");
                for (String n : g.floatInitializerNames()) expected.add(VjpCommand.fileNameOf(n));
            }
        }
        assertEquals(expected, written);
        for (String f : written) {
            try (Tensor got = Npy.read(out.resolve(f)); InputStream in = VjpCommandTest.class.getResourceAsStream("/onnx/vjp/resnet_tiny.grad/" + f);
                 Tensor want = Npy.read(in)) {
                assertEquals(DType.F32, got.dtype(), f);
                double[] a = got.toDoubleArray(), b = want.toDoubleArray();
                double scale = 1e-6, e = 0;
                for (int i = 0; i < b.length; i++) {
                    scale = Math.max(scale, Math.abs(b[i]));
                    e = Math.max(e, Math.abs(a[i] - b[i]));
                }
                assertTrue(e / scale <= 1e-3, f + ": normalized error " + e / scale);
            }
        }
    }

    @Test
    void failureIsOneLineAndNonZero() throws Exception {
        Path model = resource("vjp/se_block.onnx"), x = resource("vjp/se_block.input.npy"), gy = resource("vjp/lenet5.grad_output.npy");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = run(err, "vjp", "--model", model.toString(), "--input", x.toString(), "--grad-output", gy.toString(), "--out", dir.resolve("o").toString());
        String msg = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(code != 0);
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.startsWith("tessera vjp: error: grad-output has shape [2, 10]"), msg);

        err.reset();
        code = run(err, "vjp", "--model", dir.resolve("missing.onnx").toString(), "--input", x.toString(), "--grad-output", gy.toString(), "--out", dir.toString());
        msg = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(code != 0);
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains("missing.onnx") && msg.contains("does not exist"), msg);
    }

    @Test
    void fileNamesReplaceOnlyUnsafeCharacters() {
        assertEquals("layer1_conv_0.npy", VjpCommand.fileNameOf("layer1/conv:0"));
        assertEquals("a_b.npy", VjpCommand.fileNameOf("a\\b"));
        assertEquals("stem.1.running_mean.npy", VjpCommand.fileNameOf("stem.1.running_mean"));
        assertEquals("onnx::Conv_12 x.npy".replace(":", "_"), VjpCommand.fileNameOf("onnx::Conv_12 x"));
    }
}
