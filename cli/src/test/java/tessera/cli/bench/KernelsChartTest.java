package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelsChartTest {
    private static String result(String bench, int threads, String params, double score) {
        return "{\"benchmark\":\"" + bench + "\",\"threads\":" + threads + ",\"params\":{" + params + "},"
                + "\"primaryMetric\":{\"score\":" + score + ",\"scoreError\":1,\"scoreUnit\":\"ops/s\"}}";
    }

    @Test
    void barsArePercentOfPeakPerKernelAndThreadCountWithGapsForUnmeasuredCounts(@TempDir Path dir) throws Exception {
        String cls = JmhResultTableTest.class.getName();
        String json = "[" + result(cls + "$PeakFmaBench.oneThread", 1, "", 100) + ","
                + result(cls + "$PeakFmaBench.allThreads", 2, "", 200) + ","
                + result(cls + "$FakeGemmBench.nn", 1, "\"size\":\"1000\",\"threads\":\"1\"", 25) + ","
                + result(cls + "$FakeGemmBench.nn", 1, "\"size\":\"1000\",\"threads\":\"2\"", 40) + ","
                + result(cls + "$FakeGemmBench.nt", 1, "\"size\":\"1000\",\"threads\":\"1\"", 10) + ","
                + result(cls + "$Unknown.x", 1, "", 3) + "]";
        JmhResultTable t = new JmhResultTable(getClass().getClassLoader());
        t.add(JmhResultTable.parse(json));
        Map<String, Map<Integer, Double>> d = KernelsChart.data(t);
        assertEquals(2, d.size(), d.toString()); // neither the peak itself nor the raw-unit row
        assertEquals(50.0, d.get("FakeGemm.nn 1000").get(1), 1e-9);  // 25 × 2 GFLOP of 100 GFLOP/s
        assertEquals(40.0, d.get("FakeGemm.nn 1000").get(2), 1e-9);  // 80 of 200
        assertFalse(d.get("FakeGemm.nt 1000").containsKey(2));
        Path png = dir.resolve("k.png");
        assertTrue(KernelsChart.write(t, png, "test"));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertTrue(img.getWidth() >= 640 && img.getHeight() > 400);
    }

    @Test
    void nothingToDrawWritesNothing(@TempDir Path dir) throws Exception {
        JmhResultTable t = new JmhResultTable(getClass().getClassLoader());
        t.add(JmhResultTable.parse("[]"));
        assertFalse(KernelsChart.write(t, dir.resolve("k.png"), "test"));
        assertFalse(Files.exists(dir.resolve("k.png")));
    }
}
