package tessera.zoo.train;

/**
 * Results of evaluating a classifier on a labelled set: mean loss, top-1 and top-5 accuracy, and the confusion
 * matrix ({@code confusion[true][predicted]} counts).
 */
public record Evaluation(double loss, double top1, double top5, long[][] confusion) {

    /** Accuracy of class {@code c} (recall): correct / examples of c. */
    public double classAccuracy(int c) {
        long total = 0;
        for (long v : confusion[c]) total += v;
        return total == 0 ? Double.NaN : (double) confusion[c][c] / total;
    }

    /** Per-class accuracy and the most frequent confusions, as a small text table. */
    public String format() {
        StringBuilder b = new StringBuilder();
        int k = confusion.length;
        b.append("class   accuracy   examples   most confused with\n");
        for (int c = 0; c < k; c++) {
            long total = 0;
            int worst = -1;
            long worstCount = 0;
            for (int p = 0; p < k; p++) {
                total += confusion[c][p];
                if (p != c && confusion[c][p] > worstCount) { worst = p; worstCount = confusion[c][p]; }
            }
            b.append(String.format("%5d   %7.2f%%   %8d   %s%n", c, 100 * classAccuracy(c), total,
                    worst < 0 ? "-" : worst + " (" + worstCount + "×)"));
        }
        b.append("confusion matrix (rows: true class, columns: predicted):\n      ");
        for (int p = 0; p < k; p++) b.append(String.format("%5d", p));
        b.append('\n');
        for (int c = 0; c < k; c++) {
            b.append(String.format("%5d ", c));
            for (int p = 0; p < k; p++) b.append(String.format("%5d", confusion[c][p]));
            b.append('\n');
        }
        return b.toString();
    }
}
