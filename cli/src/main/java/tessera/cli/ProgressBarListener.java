package tessera.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import tessera.zoo.train.History;
import tessera.zoo.train.PlainProgress;

/**
 * The CLI's training listener: a live bar on a terminal (epoch, batch, loss, accuracy, images/s, ETA — via the
 * progressbar library), plain lines otherwise (CI, logs); after every checkpoint, the loss and accuracy curves as
 * {@code curves.png} beside it (XChart).
 */
final class ProgressBarListener extends PlainProgress {
    private final boolean terminal;
    private final String title;
    private ProgressBar bar;

    ProgressBarListener(PrintStream out, String title) {
        super(out);
        this.title = title;
        java.io.Console c = System.console();
        this.terminal = c != null && c.isTerminal() && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public void epochStarted(int epoch, int epochs, int batches) {
        super.epochStarted(epoch, epochs, batches);
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch, epochs)).setInitialMax(batches)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(200).showSpeed()
                    .setUnit(" batches", 1).setConsumer(new ConsoleProgressBarConsumer(out)).build();
        }
    }

    @Override
    public void batchDone(int b, double loss, double accuracy, long images) {
        if (!terminal) {
            super.batchDone(b, loss, accuracy, images);
            return;
        }
        double ips = images / Math.max(secondsSinceEpochStart(), 1e-9);
        bar.stepTo(b + 1);
        bar.setExtraMessage(String.format(" loss %.4f acc %.2f%% %.0f img/s", loss, 100 * accuracy, ips));
    }

    @Override
    public void epochDone(History.Epoch e, int epochs) {
        closeBar();
        super.epochDone(e, epochs);
    }

    @Override
    public void checkpointWritten(History history, Path dir) throws IOException {
        CurvePlot.write(history, dir.resolve("curves.png"), title);
    }

    @Override
    public void close() { closeBar(); }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
