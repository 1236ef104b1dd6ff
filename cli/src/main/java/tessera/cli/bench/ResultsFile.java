package tessera.cli.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code results.json}: JMH's JSON results (the array JMH writes, unchanged, under {@code "jmh"}) plus the report
 * header, the skipped combinations and, with {@code --compare-torch}, PyTorch's GFLOP/s by row key. Reading also
 * accepts a plain JMH result file (no header).
 *
 * @param header null for a plain JMH file
 * @param torch  empty when PyTorch was not measured
 */
public record ResultsFile(ReportHeader header, List<Object> jmh, List<SkippedRows.Skipped> skipped, Map<String, Double> torch) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public void write(Path file) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("header", header);
        root.put("skipped", skipped);
        if (!torch.isEmpty()) root.put("torch", torch);
        root.put("jmh", jmh);
        JSON.writeValue(file.toFile(), root);
    }

    /** Reads a file written by {@link #write} or by JMH ({@code -rf json}). */
    public static ResultsFile read(Path file) throws IOException {
        return parse(Files.readString(file), file.toString());
    }

    @SuppressWarnings("unchecked")
    static ResultsFile parse(String text, String name) {
        Object root = JmhResultTable.parse(text);
        if (root instanceof List<?> plain) return new ResultsFile(null, (List<Object>) plain, List.of(), Map.of());
        if (!(root instanceof Map<?, ?> m) || !(m.get("jmh") instanceof List<?> jmh)) {
            throw new IllegalArgumentException(name + ": neither a JMH result array nor a results.json with a \"jmh\" array");
        }
        ReportHeader header = m.get("header") == null ? null : JSON.convertValue(m.get("header"), ReportHeader.class);
        List<SkippedRows.Skipped> skipped = new ArrayList<>();
        if (m.get("skipped") instanceof List<?> s) {
            for (Object o : s) skipped.add(JSON.convertValue(o, SkippedRows.Skipped.class));
        }
        Map<String, Double> torch = new LinkedHashMap<>();
        if (m.get("torch") instanceof Map<?, ?> t) t.forEach((k, v) -> torch.put((String) k, ((Number) v).doubleValue()));
        return new ResultsFile(header, (List<Object>) jmh, skipped, torch);
    }
}
