package tessera.explain;

import tessera.memory.Tensor;

/**
 * Grad-CAM (Selvaraju et al.) at a convolution's output A [1, K, h, w] for class score S: weights
 * α_k = mean over (i, j) of ∂S/∂A_k[i, j], map = ReLU(Σ_k α_k · A_k) at h × w, then bilinearly resized to the input's
 * H × W.
 */
public final class GradCam {
    private GradCam() {}

    /** The map at the layer's resolution ({@code coarse}) and at the input's ({@code map}). */
    public record Result(String layer, Plane coarse, Plane map) {}

    /**
     * @param layer a convolution's name from {@link Explainable#convolutions()}, or null for the last one
     * @throws IllegalArgumentException when the model has no convolution, or {@code layer} is not one
     */
    public static Result compute(Explainable model, Tensor x, Target target, String layer) {
        Images.checkOne(x, model.inputShape());
        var convs = model.convolutions();
        if (convs.isEmpty()) throw new IllegalArgumentException("Grad-CAM needs a convolution, and this model has none");
        String at = layer == null ? convs.getLast() : layer;
        if (!convs.contains(at)) {
            if (!model.layers().contains(at)) throw new UnknownLayerException("convolution", at, convs);
            throw new IllegalArgumentException("layer '" + at + "' is not a convolution; Grad-CAM takes one of: " + String.join(", ", convs));
        }
        try (Tensor seed = Images.oneHot(1, target.classes(), target.cls());
             Pass p = model.backward(x, null, seed, at)) {
            int[] s = p.tapValue().shape();
            if (s.length != 4) throw new IllegalArgumentException("layer '" + at + "' has output shape " + java.util.Arrays.toString(s) + ", expected [1, K, h, w]");
            Plane coarse = cam(p.tapValue().toFloatArray(), p.tapGradient().toFloatArray(), s[1], s[2], s[3]);
            int[] in = x.shape();
            return new Result(at, coarse, coarse.resized(in[2], in[3]));
        }
    }

    /** ReLU(Σ_k α_k A_k) with α_k the spatial mean of G_k; a and g are [K, h, w] row-major. */
    static Plane cam(float[] a, float[] g, int k, int h, int w) {
        int hw = h * w;
        double[] m = new double[hw];
        for (int c = 0; c < k; c++) {
            double alpha = 0;
            for (int i = 0; i < hw; i++) alpha += g[c * hw + i];
            alpha /= hw;
            for (int i = 0; i < hw; i++) m[i] += alpha * a[c * hw + i];
        }
        float[] out = new float[hw];
        for (int i = 0; i < hw; i++) out[i] = (float) Math.max(0, m[i]);
        return new Plane(h, w, out);
    }
}
