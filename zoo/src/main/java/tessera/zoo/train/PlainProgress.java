package tessera.zoo.train;

import java.io.PrintStream;

/**
 * Training progress as plain lines (logs, CI): one line at each quarter of an epoch and a summary line per epoch.
 */
public class PlainProgress implements TrainingListener {
    protected final PrintStream out;
    private int epoch, epochs, batches;
    private long start;

    public PlainProgress(PrintStream out) { this.out = out; }

    @Override
    public void epochStarted(int epoch, int epochs, int batches) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.batches = batches;
        this.start = System.nanoTime();
    }

    @Override
    public void batchDone(int b, double loss, double accuracy, long images) {
        if (batches >= 4 && (b + 1) % Math.max(1, batches / 4) == 0 && b + 1 < batches) {
            double secs = secondsSinceEpochStart();
            double eta = secs / (b + 1) * (batches - b - 1);
            out.printf("epoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %.1fs%n",
                    epoch, epochs, b + 1, batches, loss, 100 * accuracy, images / Math.max(secs, 1e-9), eta);
        }
    }

    @Override
    public void epochDone(History.Epoch e, int epochs) {
        out.printf("epoch %d/%d  train loss %.4f  train acc %.2f%%  test loss %.4f  test acc %.2f%%  lr %.4g  %.0f img/s  %.1fs%n",
                e.epoch(), epochs, e.trainLoss(), 100 * e.trainAccuracy(), e.testLoss(), 100 * e.testAccuracy(),
                e.lr(), e.imagesPerSecond(), e.seconds());
    }

    /** Seconds since the current epoch started. */
    protected final double secondsSinceEpochStart() { return (System.nanoTime() - start) / 1e9; }
}
