package tessera.cli.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * {@code kernels.png}: a bar chart (XChart) of % of the measured FMA peak per kernel, one bar colour per thread count.
 * Only the GFLOP/s rows have an FMA peak; the peak benchmark itself and the GB/s rows are left out.
 */
public final class KernelsChart {
    private KernelsChart() {}

    /** Per kernel label ("Gemm.nn size=1024"), % of peak by thread count, in table order; empty when nothing applies. */
    static Map<String, Map<Integer, Double>> data(JmhResultTable t) {
        Map<String, Map<Integer, Double>> d = new LinkedHashMap<>();
        for (JmhResultTable.Row r : t.rows()) {
            double p = t.percentOfPeak(r);
            if (!r.unit().equals("GFLOP/s") || Double.isNaN(p)) continue;
            String label = label(r);
            d.computeIfAbsent(label, k -> new TreeMap<>()).put(r.threads(), p);
        }
        return d;
    }

    /** A short bar label: the kernel and its parameter values, without batch 1, e.g. {@code Conv.forward im2col r18_64_56}. */
    static String label(JmhResultTable.Row r) {
        StringBuilder b = new StringBuilder(r.kernel());
        new TreeMap<>(r.params()).forEach((k, v) -> {
            if (!k.equals("threads") && !(k.equals("batch") && v.equals("1"))) b.append(' ').append(v);
        });
        return b.toString();
    }

    /** Writes the chart; returns false (and writes nothing) when no row has a % of peak. */
    public static boolean write(JmhResultTable t, Path png, String title) throws IOException {
        Map<String, Map<Integer, Double>> d = data(t);
        if (d.isEmpty()) return false;
        System.setProperty("java.awt.headless", "true");
        TreeMap<Integer, List<Double>> series = new TreeMap<>();
        d.values().forEach(m -> m.keySet().forEach(th -> series.putIfAbsent(th, new ArrayList<>())));
        List<String> labels = new ArrayList<>(d.keySet());
        for (Map<Integer, Double> m : d.values()) series.forEach((th, ys) -> ys.add(m.get(th))); // null: no bar, not a zero
        CategoryChart c = new CategoryChartBuilder().width(Math.max(640, 120 + 44 * labels.size())).height(560)
                .title(title).xAxisTitle("").yAxisTitle("% of measured FMA peak").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setXAxisLabelRotation(90);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisDecimalPattern("#");
        series.forEach((th, ys) -> c.addSeries(th + (th == 1 ? " thread" : " threads"), labels, ys));
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return true;
    }
}
