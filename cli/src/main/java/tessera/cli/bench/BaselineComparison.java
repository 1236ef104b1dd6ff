package tessera.cli.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This run against a previous {@code results.json}: per row, the throughput ratio new/old (higher is faster, for
 * time-per-operation benchmarks too) with JMH's error bars combined, and a verdict. Rows are matched by benchmark,
 * params and JMH thread count, so baselines from another machine work (the report prints both headers).
 *
 * <p>The ratio's error: relative errors (JMH's 99.9% half-widths) add in quadrature, err = r·√(e_new² + e_old²).
 * A row is a regression when the whole interval lies below 1 and the drop exceeds {@code noiseFloor}; JMH's
 * in-fork error does not see run-to-run noise (another fork, another moment on a shared machine), which the floor
 * stands for. Likewise for faster.
 */
public final class BaselineComparison {
    /** How a row compares with its baseline. */
    public enum Verdict { SAME, FASTER, REGRESSION }

    /** new/old throughput, its error half-width and the verdict. */
    public record Ratio(double ratio, double error, Verdict verdict) {}

    private final Map<String, JmhResultTable.Row> old = new HashMap<>();
    private final ReportHeader header;
    private final double noiseFloor;

    /** {@code header} is the baseline's own (null for a plain JMH file); {@code noiseFloor} e.g. 0.05 for 5%. */
    public BaselineComparison(JmhResultTable baseline, ReportHeader header, double noiseFloor) {
        for (JmhResultTable.Row r : baseline.rows()) old.put(r.key(), r);
        this.header = header;
        this.noiseFloor = noiseFloor;
    }

    /** The baseline's header, or null when it had none. */
    public ReportHeader header() { return header; }

    public double noiseFloor() { return noiseFloor; }

    /** The ratio for a row of this run, or null when the baseline has no such row. */
    public Ratio compare(JmhResultTable.Row now) {
        JmhResultTable.Row before = old.get(now.key());
        if (before == null) return null;
        return ratio(now.opsPerSec(), now.relErr(), before.opsPerSec(), before.relErr(), noiseFloor);
    }

    /** The ratio of two throughputs with relative errors (NaN counts as 0: a single iteration has no error bar). */
    static Ratio ratio(double now, double nowRelErr, double before, double beforeRelErr, double noiseFloor) {
        double r = now / before;
        double e1 = Double.isNaN(nowRelErr) ? 0 : nowRelErr, e2 = Double.isNaN(beforeRelErr) ? 0 : beforeRelErr;
        double err = r * Math.sqrt(e1 * e1 + e2 * e2);
        Verdict v = r + err < 1 && r < 1 - noiseFloor ? Verdict.REGRESSION
                : r - err > 1 && r > 1 + noiseFloor ? Verdict.FASTER : Verdict.SAME;
        return new Ratio(r, err, v);
    }

    /** Baseline rows this run did not measure (their keys), in no particular order. */
    public List<String> onlyInBaseline(JmhResultTable now) {
        Set<String> seen = new HashSet<>();
        for (JmhResultTable.Row r : now.rows()) seen.add(r.key());
        List<String> out = new ArrayList<>();
        for (JmhResultTable.Row r : old.values()) {
            if (!seen.contains(r.key())) out.add(r.kernel() + " " + r.paramsText() + " threads=" + r.threads());
        }
        return out;
    }
}
