package tessera.zoo.models;

import java.util.Arrays;
import java.util.List;
import tessera.layers.LayerSpec;

/** Short constructors for layer specs, so architectures read like their papers. */
public final class Specs {
    private Specs() {}

    public static LayerSpec conv(int out, int k, int stride, int pad) {
        return LayerSpec.of("Conv2d", "out_channels", out, "kernel_size", k, "stride", stride, "padding", pad);
    }

    public static LayerSpec conv(int out, int k, int stride, int pad, boolean bias) {
        return conv(out, k, stride, pad).with("bias", bias);
    }

    public static LayerSpec convGrouped(int out, int k, int stride, int pad, int groups, boolean bias) {
        return conv(out, k, stride, pad, bias).with("groups", groups);
    }

    public static LayerSpec bn() { return LayerSpec.of("BatchNorm2d"); }
    public static LayerSpec bn1d() { return LayerSpec.of("BatchNorm1d"); }
    public static LayerSpec relu() { return LayerSpec.of("ReLU"); }
    public static LayerSpec flatten() { return LayerSpec.of("Flatten"); }
    public static LayerSpec gap() { return LayerSpec.of("GlobalAvgPool"); }
    public static LayerSpec dropout(double p) { return LayerSpec.of("Dropout", "p", p); }
    public static LayerSpec linear(int out) { return LayerSpec.of("Linear", "out_features", out); }

    public static LayerSpec maxPool(int k, int stride) { return LayerSpec.of("MaxPool2d", "kernel_size", k, "stride", stride); }

    public static LayerSpec maxPool(int k, int stride, int pad, boolean ceil) {
        return LayerSpec.of("MaxPool2d", "kernel_size", k, "stride", stride, "padding", pad, "ceil_mode", ceil);
    }

    public static LayerSpec avgPool(int k, int stride) { return LayerSpec.of("AvgPool2d", "kernel_size", k, "stride", stride); }

    public static LayerSpec lrn(int size, double alpha, double beta, double k) {
        return LayerSpec.of("LocalResponseNorm", "size", size, "alpha", alpha, "beta", beta, "k", k);
    }

    public static LayerSpec seq(LayerSpec... layers) { return LayerSpec.of("Sequential", "layers", List.of(layers)); }

    public static LayerSpec seq(List<LayerSpec> layers) { return LayerSpec.of("Sequential", "layers", List.copyOf(layers)); }

    /** y = act(body(x) + shortcut(x)); an empty shortcut is the identity. */
    public static LayerSpec residual(List<LayerSpec> body, List<LayerSpec> shortcut, boolean reluAfter) {
        return LayerSpec.of("Residual", "body", List.copyOf(body), "shortcut", List.copyOf(shortcut), "activation", reluAfter ? "relu" : "none");
    }

    public static LayerSpec concat(LayerSpec... branches) { return LayerSpec.of("Concat", "branches", Arrays.asList(branches)); }

    public static LayerSpec se(int reduction) { return LayerSpec.of("SqueezeExcitation", "reduction", reduction); }
}
