package tessera.serve;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * How an uploaded image becomes the model's {@code [1, C, H, W]} float input: decode (PNG, JPEG, BMP, GIF — whatever
 * the JDK's ImageIO reads), resize so the shorter side is {@code resize} pixels (bilinear), center-crop to the model's
 * H×W, then per channel {@code (pixel / 255 - mean) / std}, channels RGB (or luma when C = 1), NCHW.
 *
 * <p>Declared per model as {@code key:value} pairs separated by commas, or a preset:
 * <ul>
 *   <li>{@code imagenet} = {@code resize:256,mean:0.485/0.456/0.406,std:0.229/0.224/0.225} (torchvision's recipe
 *       for 224×224 models; {@code resize} scales with the crop: 8/7 of H)</li>
 *   <li>{@code unit} (the default) = {@code resize:H} (shorter side to H, then crop), mean 0, std 1: pixels in [0, 1]</li>
 * </ul>
 * Keys: {@code resize} (shorter side, pixels; 0 = resize straight to H×W, no crop), {@code mean} and {@code std}
 * (one value, or one per channel, separated by {@code /}), {@code order} ({@code rgb} or {@code bgr}).
 */
record Preprocess(int resize, float[] mean, float[] std, boolean bgr, String spec) {
    /** Decoded images larger than this many pixels are refused before decoding (decompression bombs). */
    static final long MAX_PIXELS = 40_000_000L;

    static Preprocess parse(String spec, int channels, int height) {
        String s = spec == null ? "unit" : spec.trim().toLowerCase(Locale.ROOT);
        int resize = height;
        float[] mean = {0f}, std = {1f};
        boolean bgr = false;
        if (s.equals("imagenet")) {
            return new Preprocess(Math.round(height * 8f / 7f), new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}, false, "imagenet");
        }
        if (!s.equals("unit")) {
            for (String part : s.split(",")) {
                String[] kv = part.split(":", 2);
                if (kv.length != 2) throw new IllegalArgumentException("preprocess '" + spec + "': '" + part + "' is not key:value (keys resize, mean, std, order; presets imagenet, unit)");
                switch (kv[0].trim()) {
                    case "resize" -> resize = parseInt(kv[1], spec);
                    case "mean" -> mean = floats(kv[1], spec);
                    case "std" -> std = floats(kv[1], spec);
                    case "order" -> {
                        if (!kv[1].trim().equals("rgb") && !kv[1].trim().equals("bgr")) throw new IllegalArgumentException("preprocess '" + spec + "': order must be rgb or bgr");
                        bgr = kv[1].trim().equals("bgr");
                    }
                    default -> throw new IllegalArgumentException("preprocess '" + spec + "': unknown key '" + kv[0].trim() + "' (keys resize, mean, std, order)");
                }
            }
        }
        if (resize < 0) throw new IllegalArgumentException("preprocess '" + spec + "': resize must be >= 0");
        for (float[] v : new float[][] {mean, std}) {
            if (v.length != 1 && v.length != channels) {
                throw new IllegalArgumentException("preprocess '" + spec + "': mean/std need 1 or " + channels + " values, got " + v.length);
            }
        }
        for (float v : std) if (!(v > 0)) throw new IllegalArgumentException("preprocess '" + spec + "': std values must be > 0");
        return new Preprocess(resize, mean, std, bgr, s);
    }

    private static int parseInt(String v, String spec) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("preprocess '" + spec + "': '" + v + "' is not an integer");
        }
    }

    private static float[] floats(String v, String spec) {
        String[] p = v.split("/");
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            try {
                f[i] = Float.parseFloat(p[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("preprocess '" + spec + "': '" + p[i] + "' is not a number");
            }
        }
        return f;
    }

    /** Human-readable form for model metadata. */
    String describe(int h, int w) {
        return (resize == 0 ? "resize to " + h + "x" + w : "resize shorter side to " + resize + ", center crop " + h + "x" + w)
                + ", (pixel/255 - " + Arrays.toString(mean) + ") / " + Arrays.toString(std) + (bgr ? ", BGR" : ", RGB");
    }

    /** Decodes {@code bytes} and returns the model input {@code [1, channels, h, w]} row-major. */
    float[] apply(byte[] bytes, int channels, int h, int w) {
        if (channels != 1 && channels != 3) throw HttpError.badRequest("the image path needs a model input with 1 or 3 channels, this one has " + channels);
        BufferedImage img = decode(bytes);
        int iw = img.getWidth(), ih = img.getHeight();
        BufferedImage out;
        if (resize == 0) {
            out = scale(img, w, h, 0, 0, iw, ih);
        } else {
            // shorter side -> resize, then the center h x w window, mapped back to source coordinates
            double f = (double) resize / Math.min(iw, ih);
            double sw = w / f, sh = h / f;
            if (Math.round(iw * f) < w || Math.round(ih * f) < h) {
                throw HttpError.badRequest("image " + iw + "x" + ih + " resized to shorter side " + resize + " is smaller than the crop " + w + "x" + h);
            }
            double sx = (iw - sw) / 2, sy = (ih - sh) / 2;
            out = scale(img, w, h, sx, sy, sw, sh);
        }
        float[] x = new float[channels * h * w];
        int plane = h * w;
        int[] rgb = out.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            float r = ((p >> 16) & 0xff) / 255f, g = ((p >> 8) & 0xff) / 255f, b = (p & 0xff) / 255f;
            if (channels == 1) {
                x[i] = ((0.299f * r + 0.587f * g + 0.114f * b) - mean[0]) / std[0];
            } else {
                float c0 = bgr ? b : r, c2 = bgr ? r : b;
                x[i] = (c0 - m(mean, 0)) / m(std, 0);
                x[plane + i] = (g - m(mean, 1)) / m(std, 1);
                x[2 * plane + i] = (c2 - m(mean, 2)) / m(std, 2);
            }
        }
        return x;
    }

    private static float m(float[] v, int c) { return v.length == 1 ? v[0] : v[c]; }

    private static BufferedImage scale(BufferedImage src, int w, int h, double sx, double sy, double sw, double sh) {
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, (int) Math.round(sx), (int) Math.round(sy), (int) Math.round(sx + sw), (int) Math.round(sy + sh), null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    private static BufferedImage decode(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) throw HttpError.unsupportedMedia("the body is not an image ImageIO can read (PNG, JPEG, BMP, GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) throw HttpError.tooLarge("image of " + reader.getWidth(0) + "x" + reader.getHeight(0) + " pixels exceeds the limit of " + MAX_PIXELS);
                BufferedImage img = reader.read(0);
                if (img == null) throw HttpError.badRequest("the image could not be decoded");
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof HttpError h) throw h;
            throw HttpError.badRequest("the image could not be decoded: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }
}
