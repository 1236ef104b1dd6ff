package tessera.onnx.infer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a model run spends its time, step by step ({@link InferenceSession#profile}). Times are wall-clock
 * milliseconds per run, averaged over the profiled runs; with several threads a step's time includes waiting for
 * its slowest worker.
 */
public final class NodeProfile {
    /**
     * One step: the ONNX node, its op with what the optimizer fused into it ({@code Conv+Add+Relu}), the algorithm
     * ({@code winograd_f4x3}, {@code im2col+gemm}, … or "" when there is one way), the shape it writes, mean ms per run,
     * percent of the total and the Java heap bytes allocated per run on the calling thread.
     */
    public record Row(String node, String op, String algorithm, int[] outputShape, double millis, double percent,
                      double heapBytes) {}

    private final List<Row> rows;
    private final int runs;

    NodeProfile(List<Row> rows, int runs) {
        this.rows = List.copyOf(rows);
        this.runs = runs;
    }

    /** Every step in execution order. */
    public List<Row> rows() { return rows; }

    /** Number of runs averaged. */
    public int runs() { return runs; }

    /** Java heap bytes all steps allocated per run on the calling thread (0 in steady state). */
    public double heapBytesPerRun() { return rows.stream().mapToDouble(Row::heapBytes).sum(); }

    /** Sum of all steps, ms per run. */
    public double totalMillis() { return rows.stream().mapToDouble(Row::millis).sum(); }

    /** The {@code n} slowest steps, slowest first. */
    public List<Row> slowest(int n) {
        List<Row> r = new ArrayList<>(rows);
        r.sort(Comparator.comparingDouble(Row::millis).reversed());
        return r.subList(0, Math.min(n, r.size()));
    }

    /** Total ms per run by op and algorithm ({@code "Conv+Relu winograd_f4x3"}), largest first. */
    public Map<String, Double> millisByOp() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Row r : rows) m.merge(r.algorithm().isEmpty() ? r.op() : r.op() + " " + r.algorithm(), r.millis(), Double::sum);
        Map<String, Double> sorted = new LinkedHashMap<>();
        m.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** A text report: the {@code top} slowest steps, then the totals by op and algorithm. */
    public String table(int top) {
        double total = totalMillis();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "profile: %d steps, %.3f ms per run (mean of %d runs), %.0f heap bytes per run%n",
                rows.size(), total, runs, heapBytesPerRun()));
        sb.append(String.format(Locale.ROOT, "%-34s %-22s %-14s %-20s %9s %6s%n", "node", "op", "algorithm", "output", "ms", "%"));
        for (Row r : slowest(top)) {
            sb.append(String.format(Locale.ROOT, "%-34s %-22s %-14s %-20s %9.3f %5.1f%%%n", clip(r.node(), 34), clip(r.op(), 22),
                    r.algorithm(), Arrays.toString(r.outputShape()).replace(" ", ""), r.millis(), r.percent()));
        }
        sb.append(String.format(Locale.ROOT, "by op and algorithm:%n"));
        for (var e : millisByOp().entrySet()) {
            sb.append(String.format(Locale.ROOT, "  %-40s %9.3f ms %5.1f%%%n", e.getKey(), e.getValue(), total == 0 ? 0 : 100 * e.getValue() / total));
        }
        for (Row r : rows) {
            if (r.heapBytes() >= 1) {
                sb.append(String.format(Locale.ROOT, "heap: %-34s %-22s %.0f bytes per run%n", clip(r.node(), 34), clip(r.op(), 22), r.heapBytes()));
            }
        }
        return sb.toString();
    }

    /** Keeps the end of long names (ONNX node paths differ at the end). */
    private static String clip(String s, int n) { return s.length() <= n ? s : "…" + s.substring(s.length() - n + 1); }
}
