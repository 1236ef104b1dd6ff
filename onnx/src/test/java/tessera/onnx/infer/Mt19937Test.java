package tessera.onnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Mt19937} against numpy's legacy generator: {@code RandomState(seed).uniform(0, 1, 700)} for six seeds
 * (0 … 2^32 − 1), made by {@code tools/make_mt19937_fixture.py} into {@code /onnx/mt19937-numpy.txt}, bit for bit;
 * 700 doubles cross two refills of the state. Also the reference implementation's own check value: the 10000th
 * 32-bit output for the default seed 5489 is 4123659995.
 */
class Mt19937Test {
    @Test
    void doublesMatchNumpysLegacyRandomState() throws IOException {
        Map<Long, List<Double>> fixture = fixture();
        assertEquals(6, fixture.size(), "seeds in the fixture");
        for (var e : fixture.entrySet()) {
            Mt19937 g = new Mt19937((int) (long) e.getKey());
            List<Double> want = e.getValue();
            assertEquals(700, want.size());
            for (int i = 0; i < want.size(); i++) {
                double got = g.nextDouble();
                assertEquals(Double.doubleToLongBits(want.get(i)), Double.doubleToLongBits(got),
                        "seed " + e.getKey() + ", draw " + i + ": " + got + " vs numpy " + want.get(i));
            }
        }
    }

    @Test
    void reseedingRestartsTheSequenceAndIntegersMatchTheReference() {
        Mt19937 g = new Mt19937(5489);
        int last = 0;
        for (int i = 0; i < 10000; i++) last = g.nextInt();
        assertEquals(4123659995L, last & 0xFFFF_FFFFL, "MT19937's published 10000th output for seed 5489");
        g.seed(0);
        double first = g.nextDouble();
        assertEquals(0.5488135039273248, first, 0, "numpy: RandomState(0).random_sample()");
        assertTrue(first >= 0 && first < 1);
    }

    private static Map<Long, List<Double>> fixture() throws IOException {
        var in = Mt19937Test.class.getResourceAsStream("/onnx/mt19937-numpy.txt");
        if (in == null) throw new IllegalStateException("fixture /onnx/mt19937-numpy.txt is missing");
        Map<Long, List<Double>> m = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            List<Double> cur = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                if (line.startsWith("seed ")) {
                    cur = new ArrayList<>();
                    m.put(Long.parseLong(line.substring(5).strip()), cur);
                } else {
                    cur.add(Double.parseDouble(line.strip()));
                }
            }
        }
        return m;
    }
}
