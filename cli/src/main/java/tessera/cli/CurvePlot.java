package tessera.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import tessera.zoo.train.History;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Writes the loss and accuracy curves of a run as one PNG (two charts side by side), with XChart. */
public final class CurvePlot {
    private CurvePlot() {}

    public static Path write(History history, Path png, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<History.Epoch> es = history.epochs();
        double[] x = new double[es.size()], trL = new double[es.size()], teL = new double[es.size()];
        double[] trA = new double[es.size()], teA = new double[es.size()];
        for (int i = 0; i < es.size(); i++) {
            History.Epoch e = es.get(i);
            x[i] = e.epoch();
            trL[i] = e.trainLoss();
            teL[i] = e.testLoss();
            trA[i] = 100 * e.trainAccuracy();
            teA[i] = 100 * e.testAccuracy();
        }
        XYChart loss = chart(title + " — loss", "cross-entropy");
        series(loss, "train", x, trL);
        series(loss, "test", x, teL);
        XYChart acc = chart(title + " — accuracy", "accuracy (%)");
        series(acc, "train", x, trA);
        series(acc, "test", x, teA);
        String base = png.toString().endsWith(".png") ? png.toString().substring(0, png.toString().length() - 4) : png.toString();
        BitmapEncoder.saveBitmap(List.of(loss, acc), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
        return Path.of(base + ".png");
    }

    private static XYChart chart(String title, String y) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(y).build();
        c.getStyler().setMarkerSize(5);
        return c;
    }

    private static void series(XYChart c, String name, double[] x, double[] y) {
        if (x.length == 0) return;
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.CIRCLE);
    }
}
