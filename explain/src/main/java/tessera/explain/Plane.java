package tessera.explain;

import java.util.Arrays;
import tessera.memory.Tensor;

/** A map over the input's pixels: {@code height × width} float values, row-major (index = y·width + x). */
public record Plane(int height, int width, float[] values) {
    public Plane {
        if (height <= 0 || width <= 0 || values.length != (long) height * width) {
            throw new IllegalArgumentException("plane " + height + "×" + width + " needs " + (long) height * width + " values, got " + values.length);
        }
    }

    public float at(int y, int x) { return values[y * width + x]; }

    /** The map as a float32 tensor [height, width] (owned by the caller). */
    public Tensor toTensor() { return Tensor.of(values, height, width); }

    /** The share of Σ|v| that lies where {@code inside} is true (0 for an all-zero map). */
    public double massInside(boolean[] inside) {
        if (inside.length != values.length) throw new IllegalArgumentException("mask has " + inside.length + " pixels, the map " + values.length);
        double in = 0, all = 0;
        for (int i = 0; i < values.length; i++) {
            double a = Math.abs(values[i]);
            all += a;
            if (inside[i]) in += a;
        }
        return all == 0 ? 0 : in / all;
    }

    /**
     * Bilinear resampling to {@code h × w} with pixel centres aligned (half-pixel coordinates, edges clamped), as
     * {@code F.interpolate(mode="bilinear", align_corners=False)}.
     */
    public Plane resized(int h, int w) {
        if (h == height && w == width) return new Plane(h, w, values.clone());
        float[] out = new float[h * w];
        for (int oy = 0; oy < h; oy++) {
            double sy = Math.max(0, (oy + 0.5) * height / h - 0.5);
            int y0 = Math.min((int) sy, height - 1), y1 = Math.min(y0 + 1, height - 1);
            double fy = sy - y0;
            for (int ox = 0; ox < w; ox++) {
                double sx = Math.max(0, (ox + 0.5) * width / w - 0.5);
                int x0 = Math.min((int) sx, width - 1), x1 = Math.min(x0 + 1, width - 1);
                double fx = sx - x0;
                double top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx, bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
                out[oy * w + ox] = (float) (top * (1 - fy) + bottom * fy);
            }
        }
        return new Plane(h, w, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Plane p && p.height == height && p.width == width && Arrays.equals(p.values, values);
    }

    @Override
    public int hashCode() { return 31 * (31 * height + width) + Arrays.hashCode(values); }

    @Override
    public String toString() { return "Plane[" + height + "×" + width + "]"; }
}
