package tessera.zoo.inspect;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import tessera.autograd.Variable;
import tessera.layers.Layer;
import tessera.layers.Model;
import tessera.layers.builtin.ConcatLayer;
import tessera.layers.builtin.ResidualLayer;
import tessera.layers.builtin.SequentialLayer;

/**
 * One row per layer: output shape, own parameters, multiply-accumulates and receptive field, plus totals.
 * Receptive field arithmetic per axis: r ← r + (k − 1)·d·j, j ← j·s (j = distance between adjacent outputs in input
 * pixels); containers take the largest field of their branches.
 */
public final class ModelSummary {
    /** One printed row. {@code receptiveField} is {height, width} in input pixels. */
    public record Row(String path, String type, int[] outputShape, long parameters, long macs, int[] receptiveField) {}

    private final List<Row> rows = new ArrayList<>();
    private final int[] input;
    private long totalParams, totalMacs;

    private ModelSummary(int[] input) { this.input = input.clone(); }

    public static ModelSummary of(Model model) {
        ModelSummary s = new ModelSummary(model.inputShape());
        s.walk(model.root(), "", model.inputShape(), new int[]{1, 1, 1, 1}, true);
        s.totalParams = model.parameterCount();
        return s;
    }

    public List<Row> rows() { return List.copyOf(rows); }
    public long totalParameters() { return totalParams; }
    public long totalMacs() { return totalMacs; }

    /** Walks a layer; rf = {rH, rW, jH, jW}; returns the output shape and updates rf in place. */
    private int[] walk(Layer layer, String path, int[] in, int[] rf, boolean emit) {
        if (layer instanceof SequentialLayer seq) {
            int[] s = in;
            for (Map.Entry<String, Layer> c : seq.children().entrySet()) {
                s = walk(c.getValue(), join(path, c.getKey()), s, rf, emit);
            }
            return s;
        }
        if (layer instanceof ResidualLayer || layer instanceof ConcatLayer) {
            int[] best = rf.clone();
            int[] out = null;
            for (Map.Entry<String, Layer> c : layer.children().entrySet()) {
                int[] branch = rf.clone();
                int[] o = walk(c.getValue(), join(path, c.getKey()), in, branch, emit);
                if (out == null) out = o;
                best[0] = Math.max(best[0], branch[0]);
                best[1] = Math.max(best[1], branch[1]);
                best[2] = Math.max(best[2], branch[2]);
                best[3] = Math.max(best[3], branch[3]);
            }
            System.arraycopy(best, 0, rf, 0, 4);
            int[] o = layer.outputShape(in);
            rows.add(new Row(path, layer.type() + (layer instanceof ResidualLayer ? " (add)" : " (concat)"), o, 0, 0, new int[]{rf[0], rf[1]}));
            return o;
        }
        int[] out = layer.outputShape(in);
        int[] w = layer.window();
        if (w != null) {
            rf[0] += (w[0] - 1) * w[4] * rf[2];
            rf[1] += (w[1] - 1) * w[5] * rf[3];
            rf[2] *= w[2];
            rf[3] *= w[3];
        }
        long own = 0;
        for (Variable v : layer.parameters().values()) own += v.value().numel();
        long macs = layer.macs(in);
        totalMacs += macs;
        if (emit) rows.add(new Row(path, layer.type(), out, own, macs, new int[]{rf[0], rf[1]}));
        return out;
    }

    private static String join(String a, String b) { return a.isEmpty() ? b : a + "." + b; }

    /** The table as text. */
    public String format() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-28s %-22s %-18s %14s %16s %10s%n", "layer", "type", "output", "params", "MACs", "RF"));
        b.append(String.format("%-28s %-22s %-18s %14s %16s %10s%n", "", "input", Arrays.toString(input), "", "", "1x1"));
        for (Row r : rows) {
            b.append(String.format("%-28s %-22s %-18s %,14d %,16d %10s%n", r.path(), r.type(), Arrays.toString(r.outputShape()),
                    r.parameters(), r.macs(), r.receptiveField()[0] + "x" + r.receptiveField()[1]));
        }
        b.append(String.format("total: %,d parameters (%.2f MB float32), %,d multiply-accumulates per image (%.3f GMAC)%n",
                totalParams, totalParams * 4 / 1e6, totalMacs, totalMacs / 1e9));
        return b.toString();
    }
}
