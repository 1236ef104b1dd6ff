package tessera.zoo.train;

import java.io.PrintStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a live bar on a terminal (epoch, batch, loss, accuracy, images/s, ETA — via the progressbar
 * library), plain lines when the output is not a terminal (CI, logs): one at each quarter of an epoch.
 */
public final class ProgressReporter implements AutoCloseable {
    private final PrintStream out;
    private final boolean terminal;
    private ProgressBar bar;
    private int epoch, epochs, batches;
    private long start;

    public ProgressReporter(PrintStream out) {
        this.out = out;
        java.io.Console c = System.console();
        this.terminal = c != null && c.isTerminal() && !"dumb".equals(System.getenv("TERM"));
    }

    public void startEpoch(int epoch, int epochs, int batches) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.batches = batches;
        this.start = System.nanoTime();
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch, epochs)).setInitialMax(batches)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(200).showSpeed()
                    .setUnit(" batches", 1).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(out)).build();
        }
    }

    /** After batch {@code b} (0-based) with running mean loss, accuracy and images seen this epoch. */
    public void batchDone(int b, double loss, double accuracy, long images) {
        double secs = (System.nanoTime() - start) / 1e9;
        double ips = images / Math.max(secs, 1e-9);
        if (terminal) {
            bar.stepTo(b + 1);
            bar.setExtraMessage(String.format(" loss %.4f acc %.2f%% %.0f img/s", loss, 100 * accuracy, ips));
        } else if (batches >= 4 && (b + 1) % Math.max(1, batches / 4) == 0 && b + 1 < batches) {
            double eta = secs / (b + 1) * (batches - b - 1);
            out.printf("epoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %.1fs%n",
                    epoch, epochs, b + 1, batches, loss, 100 * accuracy, ips, eta);
        }
    }

    public void endEpoch(History.Epoch e) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        out.printf("epoch %d/%d  train loss %.4f  train acc %.2f%%  test loss %.4f  test acc %.2f%%  lr %.4g  %.0f img/s  %.1fs%n",
                e.epoch(), epochs, e.trainLoss(), 100 * e.trainAccuracy(), e.testLoss(), 100 * e.testAccuracy(),
                e.lr(), e.imagesPerSecond(), e.seconds());
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
