package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** On a recorded JMH log and JSON: a setup failure, a model that printed SKIPPED and still got a score, a real row. */
class SkippedRowsTest {
    static String resource(String name) throws IOException {
        try (InputStream in = SkippedRowsTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void recordedLogListsTheFailedSetupAndTheSkippedModelOnce() throws IOException {
        List<SkippedRows.Skipped> s = SkippedRows.fromLog(resource("skips-jmh.log"));
        assertEquals(2, s.size(), s.toString());
        SkippedRows.Skipped conv = s.get(0);
        assertEquals("tessera.bench.ConvBench.forward", conv.benchmark());
        assertEquals(Map.of("algo", "winograd4", "batch", "1", "layer", "r18_down_128_56", "threads", "1"), conv.params());
        assertTrue(conv.failed());
        assertTrue(conv.reason().startsWith("failed: IllegalArgumentException: algorithm WINOGRAD_F4X3 needs a 3x3 kernel"), conv.reason());
        SkippedRows.Skipped model = s.get(1);
        assertEquals("Model.infer", model.kernel());
        assertFalse(model.failed());
        assertTrue(model.reason().startsWith("ModelBench vgg16/tessera: /tmp/tessera-models/vgg16.onnx is absent"), model.reason());
    }

    @Test
    void skippedRowsLeaveTheTableSoNoneShowsAsAZero() throws IOException {
        JmhResultTable t = new JmhResultTable(getClass().getClassLoader());
        t.add(JmhResultTable.parse(resource("skips-jmh.json")));
        assertEquals(2, t.rows().size());
        SkippedRows.removeFrom(t, SkippedRows.fromLog(resource("skips-jmh.log")));
        assertEquals(1, t.rows().size());
        assertEquals("Conv.forward", t.rows().get(0).kernel());
        assertEquals("direct", t.rows().get(0).params().get("algo"));
    }

    @Test
    void benchmarkSkippedMessageIsASkipNotAFailure() {
        String log = """
                # JMH version: 1.37
                # Threads: 2 threads, will synchronize iterations
                # Benchmark: tessera.bench.ModelBench.infer
                # Parameters: (batch = 1, engine = tessera, model = vgg16, threads = 1)
                
                # Run progress: 95.83% complete, ETA 00:00:09
                # Fork: 1 of 1
                Iteration   1: <failure>
                
                tessera.bench.BenchmarkSkipped: SKIPPED: /tmp/tessera-models/vgg16.onnx is absent (tools/make_torchvision_onnx.py writes it)
                
                # Run complete. Total time: 00:03:59
                """;
        List<SkippedRows.Skipped> s = SkippedRows.fromLog(log);
        assertEquals(1, s.size());
        assertFalse(s.get(0).failed());
        assertEquals(2, s.get(0).threads());
        assertEquals("1", s.get(0).threadsText());
        assertEquals("/tmp/tessera-models/vgg16.onnx is absent (tools/make_torchvision_onnx.py writes it)", s.get(0).reason());
    }

    @Test
    void aCombinationRunTwiceIsListedOnce() throws IOException {
        String log = resource("skips-jmh.log");
        int end = log.indexOf("# Run complete.");
        assertEquals(2, SkippedRows.fromLog(log.substring(0, end) + log.substring(0, end) + log.substring(end)).size());
    }

    @Test
    void aLogWithoutFailuresSkipsNothing() {
        String log = """
                # JMH version: 1.37
                # Threads: 1 thread, will synchronize iterations
                # Benchmark: tessera.bench.PeakFmaBench.oneThread
                
                # Run progress: 0.00% complete, ETA 00:00:08
                Iteration   1: 12.3 ops/s
                """;
        assertTrue(SkippedRows.fromLog(log).isEmpty());
    }
}
