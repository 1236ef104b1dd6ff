package tessera.zoo.train;

import java.util.ArrayList;
import java.util.List;

/** Per-epoch training curves. */
public final class History {
    /** One epoch: mean training loss and accuracy, test loss and accuracy, learning rate, throughput. */
    public record Epoch(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
                        double testTop5, double lr, double imagesPerSecond, double seconds) {}

    private final List<Epoch> epochs = new ArrayList<>();

    public void add(Epoch e) { epochs.add(e); }

    public List<Epoch> epochs() { return List.copyOf(epochs); }

    public Epoch last() { return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1); }

    public Epoch best() {
        Epoch b = null;
        for (Epoch e : epochs) if (b == null || e.testAccuracy() > b.testAccuracy()) b = e;
        return b;
    }

    /** CSV with a header row. */
    public String toCsv() {
        StringBuilder b = new StringBuilder("epoch,train_loss,train_acc,test_loss,test_acc,test_top5,lr,images_per_s,seconds\n");
        for (Epoch e : epochs) {
            b.append(String.format(java.util.Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%.1f,%.3f%n", e.epoch(), e.trainLoss(),
                    e.trainAccuracy(), e.testLoss(), e.testAccuracy(), e.testTop5(), e.lr(), e.imagesPerSecond(), e.seconds()));
        }
        return b.toString();
    }

    /** Parses {@link #toCsv()} output (for resuming). */
    public static History fromCsv(String csv) {
        History h = new History();
        String[] lines = csv.split("\n");
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            String[] f = lines[i].split(",");
            h.add(new Epoch(Integer.parseInt(f[0]), d(f[1]), d(f[2]), d(f[3]), d(f[4]), d(f[5]), d(f[6]), d(f[7]), d(f[8])));
        }
        return h;
    }

    private static double d(String s) { return Double.parseDouble(s.trim()); }
}
