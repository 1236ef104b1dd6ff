package tessera.cli.bench;

import java.util.List;

/** {@code report.md}: the header, the chart, the table in Markdown, the skipped combinations and the notes. */
public final class MarkdownReport {
    private MarkdownReport() {}

    /** The report; {@code chart} is the PNG's file name beside it, or null. */
    public static String render(ReportHeader header, KernelTable table, BaselineComparison baseline, String chart) {
        StringBuilder b = new StringBuilder("# Tessera kernel benchmarks\n\n").append(header.markdown()).append('\n');
        if (baseline != null) {
            b.append("Baseline: ").append(baseline.header() == null ? "a JMH result file without a header"
                    : baseline.header().oneLine()).append(sameMachineNote(header, baseline)).append("\n\n");
        }
        if (chart != null) b.append("![% of peak per kernel and thread count](").append(chart).append(")\n\n");
        b.append(row(table.header())).append("\n|");
        for (boolean r : table.right()) b.append(r ? "---:|" : "---|");
        b.append('\n');
        for (List<String> cells : table.rows()) {
            b.append(row(cells.stream().map(c -> c.equals(KernelTable.REGRESSION) ? "**" + c + "**" : c).toList())).append('\n');
        }
        if (!table.skipped().isEmpty()) {
            b.append("\nDid not run:\n\n");
            for (String s : table.skipped()) b.append("- ").append(escape(s)).append('\n');
        }
        b.append('\n');
        for (String n : table.notes()) b.append(escape(n)).append("  \n");
        return b.toString();
    }

    /** A sentence when the baseline ran elsewhere (other CPU, ISA, thread count or JDK). */
    static String sameMachineNote(ReportHeader now, BaselineComparison baseline) {
        if (baseline.header() == null || baseline.header().sameMachine(now)) return "";
        return " — another machine or JDK: ratios compare the machines as well as the code";
    }

    private static String row(List<String> cells) {
        StringBuilder b = new StringBuilder("|");
        for (String c : cells) b.append(' ').append(escape(c)).append(" |");
        return b.toString();
    }

    private static String escape(String s) { return s.replace("|", "\\|"); }
}
