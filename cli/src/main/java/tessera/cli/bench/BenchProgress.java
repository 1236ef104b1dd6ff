package tessera.cli.bench;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Follows the JMH log and shows which benchmark of how many runs: on a terminal a live bar (progressbar library:
 * i of N, the kernel and its parameters, ETA), otherwise a plain line at every tenth of the suite.
 */
public final class BenchProgress implements Consumer<String>, AutoCloseable {
    private final PrintStream out;
    private final int total;
    private final ProgressBar bar;
    private final long start = System.nanoTime();
    private String benchmark = "", params = "";
    private int started, lastDecile = -1;

    public BenchProgress(PrintStream out, int total, boolean terminal) {
        this.out = out;
        this.total = Math.max(total, 1);
        this.bar = terminal ? new ProgressBarBuilder().setTaskName("bench").setInitialMax(this.total)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(500).setMaxRenderedLength(160)
                .setConsumer(new ConsoleProgressBarConsumer(out)).build() : null;
    }

    /** True when {@code System.console()} is an interactive terminal that draws a bar. */
    public static boolean isTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal() && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public void accept(String line) {
        if (line.startsWith("# Benchmark: ")) {
            String b = line.substring(13).trim();
            int dot = b.lastIndexOf('.');
            benchmark = JmhResultTable.kernelName(b.substring(0, dot), b.substring(dot + 1));
            params = "";
        } else if (line.startsWith("# Parameters: (")) {
            params = " " + line.substring(15, line.lastIndexOf(')')).replace(" = ", "=").replace(",", "");
        } else if (line.startsWith("# Run progress:")) {
            started++;
            show();
        }
    }

    private void show() {
        String what = benchmark + params;
        if (bar != null) {
            bar.stepTo(started - 1);
            bar.setExtraMessage(" " + what);
            return;
        }
        int decile = 10 * (started - 1) / total;
        if (decile == lastDecile) return;
        lastDecile = decile;
        String eta = "";
        if (started > 1) {
            double perCase = (System.nanoTime() - start) / 1e9 / (started - 1);
            Duration d = Duration.ofSeconds(Math.round(perCase * (total - started + 1)));
            eta = String.format(Locale.ROOT, ", ETA %d:%02d", d.toMinutes(), d.toSecondsPart());
        }
        out.printf(Locale.ROOT, "bench %d/%d%s: %s%n", started, total, eta, what);
    }

    /** The number of cases that have started. */
    public int started() { return started; }

    @Override
    public void close() {
        if (bar != null) {
            bar.stepTo(started);
            bar.close();
        }
    }
}
