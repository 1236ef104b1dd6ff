package tessera.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CI's share of issue 18's fuzzing: 1,000 cases per target (seed 1; the closing note reports 100,000 per target),
 * each under a 10-second hang guard (no bound on the whole run: CI machines differ in speed). Every case must be accepted or rejected
 * with the library's own clear exception; a failure prints its detail and leaves a reproducer.
 */
class FuzzTargetsTest {
    @TempDir Path out;

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "npy", "idx", "safetensors", "spec"})
    void thousandCasesPerTargetWithoutFailures(String name) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Fuzzer.Totals t = new Fuzzer(Fuzzer.target(name), 1, 10_000, out, new PrintStream(log, true, StandardCharsets.UTF_8), true)
                .run(1000, 0);
        System.out.println(t.line());
        assertEquals(0, t.failures(), t.line() + "\n" + log.toString(StandardCharsets.UTF_8));
        assertEquals(1000, t.cases(), t.line());
        assertEquals(t.cases(), t.accepted() + t.rejected() + t.failures());
    }
}
