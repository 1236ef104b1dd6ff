package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BenchProgressTest {
    @Test
    void withoutATerminalItPrintsOneLinePerTenthWithKernelAndParameters() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int n = 45;
        try (BenchProgress p = new BenchProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), n, false)) {
            for (int i = 0; i < n; i++) {
                p.accept("# Benchmark: tessera.bench.ConvBench.forward");
                p.accept("# Parameters: (algo = im2col, batch = 1, layer = r18_64_56, threads = " + i + ")");
                p.accept("# Run progress: " + (100.0 * i / n) + "% complete, ETA 00:01:00");
                p.accept("Iteration   1: 3.0 ops/s");
            }
            assertEquals(n, p.started());
        }
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\\R");
        assertEquals(10, lines.length, String.join("\n", lines));
        assertEquals("bench 1/45: Conv.forward algo=im2col batch=1 layer=r18_64_56 threads=0", lines[0]);
        assertTrue(lines[9].startsWith("bench 42/45, ETA "), lines[9]); // 10·41/45 is the first past 9
    }
}
