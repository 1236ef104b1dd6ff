package tessera.cli.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The benchmark combinations of a JMH log that produced no measurement: a setup that threw {@code BenchmarkSkipped}
 * (message {@code SKIPPED: reason}: absent model file, algorithm that does not apply), a setup that printed a
 * {@code SKIPPED} line, or any other failure. Each is reported once with its reason instead of a row of zeros.
 */
public final class SkippedRows {
    /** One combination that did not run; {@code failed} when it was not a deliberate skip. */
    public record Skipped(String benchmark, Map<String, String> params, int threads, String reason, boolean failed) {
        public String kernel() {
            int dot = benchmark.lastIndexOf('.');
            return JmhResultTable.kernelName(benchmark.substring(0, dot), benchmark.substring(dot + 1));
        }

        public String key() { return JmhResultTable.key(benchmark, params, threads); }

        /** The row's thread count: its {@code threads} param when it has one, else JMH's. */
        public String threadsText() { return params.getOrDefault("threads", Integer.toString(threads)); }
    }

    private static final String MARKER = "SKIPPED";

    private SkippedRows() {}

    /** Every combination of the log (one or more JMH runs, concatenated) that ended in a skip or a failure. */
    public static List<Skipped> fromLog(String log) {
        List<Skipped> out = new ArrayList<>();
        Section s = null;
        String[] lines = log.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("# JMH version:") || line.startsWith("# Run complete.")) {
                if (s != null) s.finish(out);
                s = new Section();
            } else if (s == null) {
                continue;
            } else if (line.startsWith("# Threads: ")) {
                s.threads = Integer.parseInt(line.substring(11).trim().split("\\s")[0]);
            } else if (line.startsWith("# Benchmark: ")) {
                s.benchmark = line.substring(13).trim();
            } else if (line.startsWith("# Parameters: (")) {
                s.params = parameters(line.substring(15, line.lastIndexOf(')')));
            } else if (line.contains("<failure>")) {
                s.failure = firstNonBlank(lines, i + 1);
            } else if (s.skipReason == null && line.contains(MARKER) && !line.startsWith("#")) {
                s.skipReason = afterMarker(line);
            }
        }
        if (s != null) s.finish(out);
        Set<String> seen = new HashSet<>();
        out.removeIf(k -> !seen.add(k.key())); // a combination JMH ran twice (repeated -p values) is listed once
        return out;
    }

    /** Removes from {@code table} the rows of skipped combinations (a setup that printed SKIPPED still gets a score). */
    public static void removeFrom(JmhResultTable table, List<Skipped> skipped) {
        Set<String> keys = new HashSet<>();
        for (Skipped k : skipped) keys.add(k.key());
        table.rows.removeIf(r -> keys.contains(r.key()));
    }

    /** "a = 1, b = x" → {a=1, b=x}. */
    static Map<String, String> parameters(String text) {
        Map<String, String> m = new TreeMap<>();
        for (String kv : text.split(", ")) {
            int eq = kv.indexOf(" = ");
            if (eq > 0) m.put(kv.substring(0, eq).trim(), kv.substring(eq + 3).trim());
        }
        return m;
    }

    private static String firstNonBlank(String[] lines, int from) {
        for (int i = from; i < lines.length && i < from + 5; i++) if (!lines[i].isBlank()) return lines[i].trim();
        return "no message";
    }

    private static String afterMarker(String line) {
        String rest = line.substring(line.indexOf(MARKER) + MARKER.length());
        return rest.replaceFirst("^[:\\s]+", "").trim();
    }

    /** The state of one "# JMH version … " section of the log. */
    private static final class Section {
        String benchmark;
        Map<String, String> params = new LinkedHashMap<>();
        int threads = 1;
        String failure, skipReason;

        void finish(List<Skipped> out) {
            if (benchmark == null) return;
            if (failure != null && failure.contains(MARKER)) {
                out.add(new Skipped(benchmark, params, threads, afterMarker(failure), false));
            } else if (skipReason != null) {
                out.add(new Skipped(benchmark, params, threads, skipReason, false));
            } else if (failure != null) {
                String f = failure.replaceFirst("^[\\w.$]*\\.(?=\\w+(Exception|Error)\\b)", ""); // drop the package
                out.add(new Skipped(benchmark, params, threads, "failed: " + f, true));
            }
        }
    }
}
