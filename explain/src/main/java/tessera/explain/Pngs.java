package tessera.explain;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import tessera.memory.Tensor;

/**
 * PNG pictures of the results (JDK ImageIO). Small images are enlarged by an integer factor (nearest neighbour)
 * so the longer side is at least 224 pixels.
 */
public final class Pngs {
    /** Opacity of the heat map over the input where the map is lowest and where it is highest (linear between). */
    public static final float ALPHA_LOW = 0.35f, ALPHA_HIGH = 0.9f;

    private Pngs() {}

    /**
     * The map in the colour scale ({@link Colormap}, min → 0, max → 1 over the map) blended over the input image
     * [1, C, H, W] shown in gray (channel mean, min–max stretched), more opaque where the map is higher.
     */
    public static BufferedImage heatMap(Plane map, Tensor input) {
        int[] s = input.shape();
        if (s[2] != map.height() || s[3] != map.width()) {
            throw new IllegalArgumentException("map " + map.height() + "×" + map.width() + " does not match the input " + s[2] + "×" + s[3]);
        }
        int c = s[1], h = s[2], w = s[3];
        float[] v = input.toFloatArray(), gray = new float[h * w];
        for (int ch = 0; ch < c; ch++) for (int i = 0; i < h * w; i++) gray[i] += v[ch * h * w + i] / c;
        gray = Grid.normalized(gray);
        float[] m = Grid.normalized(map.values());
        int f = scale(h, w);
        BufferedImage img = new BufferedImage(w * f, h * f, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float[] col = Colormap.rgb(m[y * w + x]);
                float g = gray[y * w + x], a = ALPHA_LOW + (ALPHA_HIGH - ALPHA_LOW) * m[y * w + x];
                int rgb = pack((1 - a) * g + a * col[0], (1 - a) * g + a * col[1], (1 - a) * g + a * col[2]);
                fill(img, x * f, y * f, f, rgb);
            }
        }
        return img;
    }

    /** The grid in gray (1 channel) or colour (3), enlarged. */
    public static BufferedImage grid(Grid grid) {
        int h = grid.height(), w = grid.width(), c = grid.channels(), f = scale(h, w);
        float[] v = grid.values();
        BufferedImage img = new BufferedImage(w * f, h * f, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * c;
                int rgb = c == 1 ? pack(v[i], v[i], v[i]) : pack(v[i], v[i + 1], v[i + 2]);
                fill(img, x * f, y * f, f, rgb);
            }
        }
        return img;
    }

    /** An image [1, C, H, W] (C = 1 gray, C = 3 RGB; otherwise the channel mean), min–max stretched, enlarged. */
    public static BufferedImage image(Tensor x) {
        int[] s = x.shape();
        int c = s[1], h = s[2], w = s[3];
        float[] v = Grid.normalized(x.toFloatArray());
        float[] hwc = new float[h * w * (c == 3 ? 3 : 1)];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < h * w; i++) {
                if (c == 3) hwc[i * 3 + ch] = v[ch * h * w + i];
                else hwc[i] += v[ch * h * w + i] / c;
            }
        }
        return grid(new Grid(h, w, c == 3 ? 3 : 1, hwc));
    }

    public static void write(BufferedImage img, Path file) throws IOException {
        if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer in this JDK");
    }

    private static int scale(int h, int w) { return Math.max(1, (int) Math.ceil(224.0 / Math.max(h, w))); }

    private static int pack(float r, float g, float b) { return (byte8(r) << 16) | (byte8(g) << 8) | byte8(b); }

    private static int byte8(float v) { return Math.round(Math.max(0, Math.min(1, v)) * 255); }

    private static void fill(BufferedImage img, int x0, int y0, int f, int rgb) {
        for (int y = y0; y < y0 + f; y++) for (int x = x0; x < x0 + f; x++) img.setRGB(x, y, rgb);
    }
}
