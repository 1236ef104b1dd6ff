package tessera.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/** {@code tessera explain} end to end on the LeNet-5 ONNX fixture: every method's files and shapes, and the one-line errors. */
class ExplainCommandTest {
    @TempDir Path dir;
    Path model, input;

    @BeforeEach
    void fixtures() throws Exception {
        model = dir.resolve("lenet5.onnx");
        try (InputStream in = ExplainCommandTest.class.getResourceAsStream("/onnx/lenet5.onnx")) {
            Files.copy(in, model);
        }
        float[] v = new float[28 * 28];
        for (int y = 6; y < 22; y++) for (int x = 12; x < 16; x++) v[y * 28 + x] = 1f;   // a "1"
        input = dir.resolve("x.npy");
        try (Tensor t = Tensor.of(v, 1, 1, 28, 28)) {
            Npy.write(t, input);
        }
    }

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new TesseraCli()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Run explain(String method, String... extra) {
        String[] base = {"explain", "--model", model.toString(), "--input", input.toString(), "--method", method, "--out", dir.resolve("out").toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return run(all);
    }

    @Test
    void everyMethodWritesItsNpyAndPng() throws Exception {
        for (String m : ExplainCommand.METHODS) {
            Run r = explain(m, "--steps", "3");
            assertEquals(0, r.code(), m + ": " + r.err());
            Path npy = dir.resolve("out").resolve(m + ".npy"), png = dir.resolve("out").resolve(m + ".png");
            assertTrue(ImageIO.read(png.toFile()) != null, m + ": unreadable PNG");
            try (Tensor t = Npy.read(npy)) {
                assertEquals(DType.F32, t.dtype());
                switch (m) {
                    case "saliency", "smoothgrad", "gradxinput", "gradcam", "occlusion" -> assertArrayEquals(new int[] {28, 28}, t.shape(), m);
                    case "maximize" -> assertArrayEquals(new int[] {1, 1, 28, 28}, t.shape(), m);
                    default -> assertEquals(2, t.rank(), m);
                }
                for (float f : t.toFloatArray()) assertTrue(Float.isFinite(f), m);
            }
            assertTrue(r.out().startsWith("explain " + m + ":"), r.out());
        }
    }

    @Test
    void errorsAreOneClearLine() {
        Run unknown = explain("activations", "--layer", "nope");
        assertEquals(1, unknown.code());
        String[] lines = unknown.err().strip().split("\n");
        assertEquals(1, lines.length, unknown.err());
        assertTrue(lines[0].contains("unknown layer 'nope'; valid layers"), lines[0]);

        Run cls = explain("saliency", "--class", "10");
        assertEquals(1, cls.code());
        assertTrue(cls.err().strip().equals("tessera explain: error: class 10 is out of range: the model scores 10 classes (0..9)"), cls.err());

        Run method = explain("lime");
        assertEquals(1, method.code());
        assertTrue(method.err().contains("unknown --method 'lime'"), method.err());

        Run notConv = explain("gradcam", "--layer", "nope");
        assertTrue(notConv.err().contains("unknown convolution 'nope'"), notConv.err());
    }

    @Test
    void wrongInputShapeIsOneLine() throws Exception {
        Path bad = dir.resolve("bad.npy");
        try (Tensor t = Tensor.zeros(1, 3, 28, 28)) {
            Npy.write(t, bad);
        }
        Run r = run("explain", "--model", model.toString(), "--input", bad.toString(), "--method", "saliency", "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().strip().startsWith("tessera explain: error: input has shape [1, 3, 28, 28]"), r.err());
    }
}
