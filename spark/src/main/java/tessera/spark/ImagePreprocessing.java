package tessera.spark;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * How an encoded image (the {@code content} column of Spark's {@code binaryFile} source) becomes one NCHW sample.
 *
 * <ol>
 *   <li>Decode with {@link ImageIO} (PNG, JPEG, BMP, GIF, WBMP out of the box); alpha is dropped.</li>
 *   <li>Resize so that the shorter side is {@code resizeShorter} pixels (bilinear, half-pixel centres, no
 *       antialiasing; the longer side is scaled by the same factor and rounded). {@code resizeShorter <= 0}
 *       means {@code round(max(cropH, cropW) * 256 / 224)}, the ImageNet convention.</li>
 *   <li>Center-crop {@code cropH × cropW}. {@code cropH, cropW <= 0} means the model's declared input H × W.</li>
 *   <li>Scale to [0, 1] ({@code value / 255}), then {@code (v - mean[c]) / std[c]} per channel.</li>
 *   <li>Lay out channel-major (C, H, W): 3 channels are R, G, B; 1 channel is the luminance
 *       {@code 0.299 R + 0.587 G + 0.114 B} (computed in float, before the scaling above).</li>
 * </ol>
 * {@link #DEFAULT} uses the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) for 3-channel
 * models and mean 0, std 1 for 1-channel models; the crop follows the model. All arithmetic is in float, in a
 * fixed order, so the same bytes give the same floats on every JVM.
 */
public record ImagePreprocessing(int resizeShorter, int cropH, int cropW, float[] mean, float[] std) implements Serializable {
    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    /** Crop to the model's input size, resize shorter side to crop × 256/224, ImageNet normalization. */
    public static final ImagePreprocessing DEFAULT = new ImagePreprocessing(0, 0, 0, null, null);

    public ImagePreprocessing {
        if (mean != null && std != null && mean.length != std.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " values, std has " + std.length + "; give one per channel");
        }
        if (std != null) for (float s : std) if (!(s > 0)) throw new IllegalArgumentException("std values must be > 0, got " + Arrays.toString(std));
        mean = mean == null ? null : mean.clone();
        std = std == null ? null : std.clone();
    }

    public ImagePreprocessing withResizeShorter(int side) { return new ImagePreprocessing(side, cropH, cropW, mean, std); }

    public ImagePreprocessing withCrop(int h, int w) { return new ImagePreprocessing(resizeShorter, h, w, mean, std); }

    public ImagePreprocessing withNormalization(float[] m, float[] s) { return new ImagePreprocessing(resizeShorter, cropH, cropW, m, s); }

    /**
     * Decodes and preprocesses one image into a float array of {@code channels × h × w} values, where the
     * sample shape {@code (channels, h, w)} is the model's (used where the crop is left to the model).
     */
    public float[] apply(byte[] encoded, int channels, int h, int w) throws BadRowException {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("image inputs need a model with 1 or 3 input channels, this one has " + channels);
        }
        int ch = cropH > 0 ? cropH : h, cw = cropW > 0 ? cropW : w;
        if (ch != h || cw != w) {
            throw new IllegalArgumentException("crop " + ch + "x" + cw + " does not match the model's input " + h + "x" + w);
        }
        float[] m = mean != null ? mean : channels == 3 ? IMAGENET_MEAN : new float[] {0f};
        float[] s = std != null ? std : channels == 3 ? IMAGENET_STD : new float[] {1f};
        if (m.length != channels) {
            throw new IllegalArgumentException("mean/std have " + m.length + " values, the model has " + channels + " channels");
        }
        if (encoded == null) throw new BadRowException("no image bytes (null)");
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(encoded));
        } catch (IOException | RuntimeException e) {
            throw new BadRowException("cannot decode image (" + encoded.length + " bytes): " + e.getMessage(), e);
        }
        if (img == null) throw new BadRowException("cannot decode image (" + encoded.length + " bytes): not a format ImageIO reads");
        int iw = img.getWidth(), ih = img.getHeight();
        int[] argb = img.getRGB(0, 0, iw, ih, null, 0, iw);
        // planes of the decoded image in [0, 255]
        float[][] planes = new float[channels][iw * ih];
        for (int i = 0; i < argb.length; i++) {
            float r = (argb[i] >> 16) & 0xFF, g = (argb[i] >> 8) & 0xFF, b = argb[i] & 0xFF;
            if (channels == 3) {
                planes[0][i] = r;
                planes[1][i] = g;
                planes[2][i] = b;
            } else {
                planes[0][i] = 0.299f * r + 0.587f * g + 0.114f * b;
            }
        }
        int shorter = resizeShorter > 0 ? resizeShorter : Math.round(Math.max(ch, cw) * 256f / 224f);
        int rw, rh;
        if (iw <= ih) {
            rw = shorter;
            rh = Math.max(1, (int) Math.round((double) ih * shorter / iw));
        } else {
            rh = shorter;
            rw = Math.max(1, (int) Math.round((double) iw * shorter / ih));
        }
        if (rh < ch || rw < cw) {
            throw new IllegalArgumentException("resize to shorter side " + shorter + " gives " + rh + "x" + rw + ", smaller than the crop " + ch + "x" + cw);
        }
        int top = (rh - ch) / 2, left = (rw - cw) / 2;
        float[] out = new float[channels * ch * cw];
        float sy = (float) ih / rh, sx = (float) iw / rw;
        for (int y = 0; y < ch; y++) {
            float fy = Math.max(0f, (y + top + 0.5f) * sy - 0.5f);
            int y0 = Math.min((int) fy, ih - 1), y1 = Math.min(y0 + 1, ih - 1);
            float wy = fy - y0;
            for (int x = 0; x < cw; x++) {
                float fx = Math.max(0f, (x + left + 0.5f) * sx - 0.5f);
                int x0 = Math.min((int) fx, iw - 1), x1 = Math.min(x0 + 1, iw - 1);
                float wx = fx - x0;
                for (int c = 0; c < channels; c++) {
                    float[] p = planes[c];
                    float a = p[y0 * iw + x0] + (p[y0 * iw + x1] - p[y0 * iw + x0]) * wx;
                    float b = p[y1 * iw + x0] + (p[y1 * iw + x1] - p[y1 * iw + x0]) * wx;
                    float v = (a + (b - a) * wy) / 255f;
                    out[(c * ch + y) * cw + x] = (v - m[c]) / s[c];
                }
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImagePreprocessing p && p.resizeShorter == resizeShorter && p.cropH == cropH && p.cropW == cropW
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() { return Arrays.hashCode(new int[] {resizeShorter, cropH, cropW, Arrays.hashCode(mean), Arrays.hashCode(std)}); }

    @Override
    public String toString() {
        return "ImagePreprocessing[resizeShorter=" + resizeShorter + ", crop=" + cropH + "x" + cropW + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
