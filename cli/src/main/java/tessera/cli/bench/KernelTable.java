package tessera.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's table as cells, shared by the terminal and the Markdown report: kernel, params, threads, rate, unit,
 * ±err, % of peak, then alloc (with {@code -prof gc}), the baseline ratio and verdict (with a baseline) and PyTorch's
 * rate (with {@code --compare-torch}); skipped combinations and footnotes below.
 *
 * @param header  the column titles
 * @param right   per column, true when right-aligned (numbers)
 * @param rows    one per measured row, cells as text
 * @param skipped one line per combination that did not run, with its reason
 * @param notes   what the columns mean
 */
public record KernelTable(List<String> header, List<Boolean> right, List<List<String>> rows, List<String> skipped,
        List<String> notes) {
    /** The verdict cell of a regression (the tests and the Markdown emphasis look for it). */
    public static final String REGRESSION = "REGRESSION";

    /** Builds the table; {@code baseline} and {@code torch} (GFLOP/s by row key) may be null. */
    public static KernelTable build(JmhResultTable t, List<SkippedRows.Skipped> skipped, BaselineComparison baseline,
            Map<String, Double> torch) {
        boolean alloc = t.rows().stream().anyMatch(r -> r.allocBytesPerOp() != null);
        List<String> header = new ArrayList<>(List.of("kernel", "params", "threads", "rate", "unit", "±err", "% of peak"));
        List<Boolean> right = new ArrayList<>(List.of(false, false, true, true, false, true, true));
        if (alloc) add(header, right, "alloc B/op", true);
        if (baseline != null) {
            add(header, right, "new/old", true);
            add(header, right, "±", true);
            add(header, right, "vs baseline", false);
        }
        if (torch != null) {
            add(header, right, "torch GFLOP/s", true);
            add(header, right, "/torch", true);
        }
        List<List<String>> rows = new ArrayList<>();
        for (JmhResultTable.Row r : t.rows()) {
            List<String> c = new ArrayList<>(List.of(r.kernel(), r.paramsText(), Integer.toString(r.threads()), rate(r.rate()),
                    r.unit(), Double.isNaN(r.relErr()) ? "" : pct(100 * r.relErr()), pct(t.percentOfPeak(r))));
            if (alloc) c.add(r.allocBytesPerOp() == null ? "" : String.format(Locale.ROOT, "%.1f", r.allocBytesPerOp()));
            if (baseline != null) {
                BaselineComparison.Ratio q = baseline.compare(r);
                c.add(q == null ? "new" : f2(q.ratio()));
                c.add(q == null ? "" : f2(q.error()));
                c.add(q == null ? "" : switch (q.verdict()) {
                    case REGRESSION -> REGRESSION;
                    case FASTER -> "faster";
                    case SAME -> "";
                });
            }
            if (torch != null) {
                Double g = torch.get(r.key());
                c.add(g == null || g.isNaN() ? "" : rate(g));
                c.add(g == null || g.isNaN() || !r.unit().equals("GFLOP/s") ? "" : f2(r.rate() / g));
            }
            rows.add(c);
        }
        List<String> skip = new ArrayList<>();
        for (SkippedRows.Skipped s : skipped) {
            String p = JmhResultTable.paramsText(s.params());
            skip.add((s.failed() ? "FAILED  " : "skipped ") + s.kernel() + (p.isEmpty() ? "" : " " + p) + " threads="
                    + s.threadsText() + ": " + s.reason());
        }
        return new KernelTable(header, right, rows, skip, notes(t, baseline, torch != null));
    }

    private static List<String> notes(JmhResultTable t, BaselineComparison baseline, boolean torch) {
        List<String> n = new ArrayList<>();
        double p1 = t.peak(1);
        if (!Double.isNaN(p1)) {
            n.add(String.format(Locale.ROOT, "%% of peak: GFLOP/s rows against the measured FMA peak (%.1f GFLOP/s on 1 thread%s); "
                    + "GB/s rows against CopyBench at the same thread count.", p1, t.allThreadsCount() == 0
                    ? ", allThreads did not run: more threads are scaled from it"
                    : String.format(Locale.ROOT, ", %.1f on %d", t.peak(Integer.MAX_VALUE), t.allThreadsCount())));
        } else {
            n.add("% of peak: empty, PeakFmaBench did not run.");
        }
        n.add("±err: JMH's 99.9% confidence half-width over the score; Winograd rows count direct-convolution FLOPs, so they can pass 100%.");
        if (baseline != null) {
            n.add(String.format(Locale.ROOT, "new/old: throughput ratio to the baseline, ± combined error bars; REGRESSION/faster: "
                    + "the whole interval beyond 1 and by more than %.0f%% (run-to-run noise); when a header warns of a busy "
                    + "machine, a flag may be the load rather than the code.", 100 * baseline.noiseFloor()));
        }
        if (torch) n.add("torch GFLOP/s: PyTorch on this machine, same shape and threads (tools/torch_kernels.py); /torch: Tessera ÷ PyTorch.");
        return n;
    }

    private static void add(List<String> header, List<Boolean> right, String title, boolean r) {
        header.add(title);
        right.add(r);
    }

    static String rate(double v) { return String.format(Locale.ROOT, v >= 100 ? "%.1f" : "%.2f", v); }

    private static String pct(double v) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.0f%%", v); }

    private static String f2(double v) { return String.format(Locale.ROOT, "%.2f", v); }
}
