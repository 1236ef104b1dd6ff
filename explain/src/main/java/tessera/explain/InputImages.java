package tessera.explain;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/**
 * Reads the image to explain as [1, C, H, W] float32. A {@code .npy} is taken as it is (it must be one image,
 * NCHW). A PNG or JPEG is resized (bilinear) so its shorter side is the model's H, center-cropped to H × W (or kept
 * at its size when the model takes any size), and scaled: 1 channel = luma/255; 3 channels =
 * (RGB/255 − [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] (torchvision's ImageNet normalization).
 */
public final class InputImages {
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f}, STD = {0.229f, 0.224f, 0.225f};

    private InputImages() {}

    /** @param declared the model's per-sample shape [C, H, W] (-1 = any) */
    public static Tensor read(Path file, int[] declared) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            Tensor t = Npy.read(file);
            try {
                if (t.dtype() != DType.F32) throw new IllegalArgumentException(file + " holds " + t.dtype() + "; the input must be float32");
                Images.checkOne(t, declared);
                return t;
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        }
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) throw new IllegalArgumentException(file + " is neither a .npy file nor an image ImageIO reads (PNG, JPEG)");
        int c = declared[0] < 0 ? 3 : declared[0];
        if (c != 1 && c != 3) throw new IllegalArgumentException("the model takes " + c + " channels; images give 1 (gray) or 3 (RGB)");
        int h = declared[1] < 0 ? img.getHeight() : declared[1], w = declared[2] < 0 ? img.getWidth() : declared[2];
        BufferedImage fitted = (h == img.getHeight() && w == img.getWidth()) ? img : fit(img, h, w);
        float[] v = new float[c * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = fitted.getRGB(x, y);
                float r = ((rgb >> 16) & 255) / 255f, g = ((rgb >> 8) & 255) / 255f, b = (rgb & 255) / 255f;
                if (c == 1) {
                    v[y * w + x] = 0.299f * r + 0.587f * g + 0.114f * b;
                } else {
                    float[] p = {r, g, b};
                    for (int ch = 0; ch < 3; ch++) v[(ch * h + y) * w + x] = (p[ch] - MEAN[ch]) / STD[ch];
                }
            }
        }
        return Tensor.of(v, 1, c, h, w);
    }

    /** Shorter side scaled to cover h × w, then the center h × w. */
    private static BufferedImage fit(BufferedImage img, int h, int w) {
        double s = Math.max((double) h / img.getHeight(), (double) w / img.getWidth());
        int sh = Math.max(h, (int) Math.round(img.getHeight() * s)), sw = Math.max(w, (int) Math.round(img.getWidth() * s));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, -(sw - w) / 2, -(sh - h) / 2, sw, sh, null);
        g.dispose();
        return out;
    }
}
