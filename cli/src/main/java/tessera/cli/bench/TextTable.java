package tessera.cli.bench;

import java.io.PrintStream;
import java.util.List;

/** Prints a {@link KernelTable} as aligned plain text: header, rule, rows, then skipped lines and notes. */
public final class TextTable {
    private TextTable() {}

    public static void print(KernelTable t, PrintStream out) {
        int[] w = new int[t.header().size()];
        for (int c = 0; c < w.length; c++) w[c] = t.header().get(c).length();
        for (List<String> row : t.rows()) for (int c = 0; c < w.length; c++) w[c] = Math.max(w[c], row.get(c).length());
        String head = line(t.header(), t.right(), w);
        out.println(head);
        out.println("-".repeat(head.length()));
        for (List<String> row : t.rows()) out.println(line(row, t.right(), w));
        for (String s : t.skipped()) out.println(s);
        for (String n : t.notes()) out.println(n);
    }

    private static String line(List<String> cells, List<Boolean> right, int[] w) {
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < w.length; c++) {
            b.append(c == 0 ? "" : "  ").append(String.format("%" + (right.get(c) ? "" : "-") + w[c] + "s", cells.get(c)));
        }
        return b.toString().stripTrailing();
    }
}
