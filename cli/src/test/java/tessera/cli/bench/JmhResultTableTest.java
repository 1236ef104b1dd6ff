package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JmhResultTableTest {
    /** A stand-in benchmark class following the flops convention. */
    public static final class FakeGemmBench {
        public static double flops(String method, Map<String, String> params) {
            double s = Double.parseDouble(params.get("size"));
            return 2 * s * s * s;
        }
    }

    /** A stand-in for PeakFmaBench (the table finds the peak by class simple name). */
    public static final class PeakFmaBench {
        public static double flops(String method, Map<String, String> params) { return 1e9; }
    }

    private static String result(String bench, int threads, String params, double score, String unit, String extra) {
        return "{\"benchmark\":\"" + bench + "\",\"mode\":\"thrpt\",\"threads\":" + threads + ",\"params\":{" + params + "},"
                + "\"primaryMetric\":{\"score\":" + score + ",\"scoreError\":" + (score / 10) + ",\"scoreUnit\":\"" + unit + "\"}"
                + extra + "}";
    }

    @Test
    void convertsScoresWithTheFlopsConventionAndComputesPercentOfPeak() {
        String cls = JmhResultTableTest.class.getName();
        String json = "[" + result(cls + "$PeakFmaBench.oneThread", 1, "", 100.0, "ops/s", "") + ","
                + result(cls + "$PeakFmaBench.allThreads", 2, "", 0.2, "ops/ms", "") + ","
                + result(cls + "$FakeGemmBench.nn", 1, "\"size\":\"1000\",\"threads\":\"2\"", 50.0, "ops/s",
                        ",\"secondaryMetrics\":{\"gc.alloc.rate.norm\":{\"score\":0.01,\"scoreUnit\":\"B/op\"}}") + ","
                + result(cls + "$Unknown.x", 1, "", 3.5, "ms/op", "") + "]";
        JmhResultTable t = new JmhResultTable(getClass().getClassLoader());
        t.add(JmhResultTable.parse(json));
        assertEquals(100.0, t.peak(1), 1e-9);
        assertEquals(200.0, t.peak(2), 1e-9);
        JmhResultTable.Row gemm = t.rows.get(2);
        assertEquals(2, gemm.threads());
        assertEquals(100.0, gemm.rate(), 1e-9); // 50 ops/s × 2e9 flops
        assertEquals("GFLOP/s", gemm.unit());
        assertEquals(0.01, gemm.allocBytesPerOp(), 1e-12);
        assertEquals("ms/op", t.rows.get(3).unit());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        t.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("FakeGemm.nn") && out.contains("size=1000") && out.contains("50%"), out);
    }

    @Test
    void footerNamesOnlyThePeaksThatWereMeasured() {
        String cls = JmhResultTableTest.class.getName();
        String json = "[" + result(cls + "$PeakFmaBench.oneThread", 1, "", 100.0, "ops/s", "") + "]";
        JmhResultTable t = new JmhResultTable(getClass().getClassLoader());
        t.add(JmhResultTable.parse(json));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        t.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("100.0 GFLOP/s on 1 thread, allThreads did not run"), out);
        assertTrue(!out.contains(" on 2)"), out);
    }

    @Test
    void timeUnitsConvert() {
        assertEquals(1000.0, JmhResultTable.toOpsPerSec(1, "ms/op"), 1e-9);
        assertEquals(5e6, JmhResultTable.toOpsPerSec(5, "ops/us"), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> JmhResultTable.toOpsPerSec(1, "furlongs"));
    }

    @Test
    void malformedResultFilesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> JmhResultTable.parse("{\"a\": }"));
        assertThrows(IllegalArgumentException.class, () -> JmhResultTable.parse("[1, 2"));
        assertThrows(IllegalArgumentException.class, () -> new JmhResultTable(getClass().getClassLoader()).add(JmhResultTable.parse("{}")));
    }
}
