package tessera.explain;

import static tessera.explain.TinyOnnx.i;
import static tessera.explain.TinyOnnx.in;
import static tessera.explain.TinyOnnx.ints;

import java.nio.file.Path;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** The small models of the known-answer tests, as ONNX files and as layer models. */
final class Models {
    static final int H = 20, W = 20;
    /** The masked model's region: rows 4..11, columns 6..13. */
    static final int R0 = 4, R1 = 12, C0 = 6, C1 = 14;

    private Models() {}

    static boolean[] region(int border) {
        boolean[] m = new boolean[H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) m[y * W + x] = y >= R0 - border && y < R1 + border && x >= C0 - border && x < C1 + border;
        }
        return m;
    }

    /**
     * x [N, 2, 20, 20] → x·mask (1 inside the region, 0 outside) → conv "c1" 4×3×3 pad 1 (no bias) → ReLU → conv "c2"
     * 4×3×3 pad 1 (no bias, weights ≥ 0) → ReLU → global average → Gemm to 3 classes (weights > 0): the scores depend
     * on the region only.
     */
    static Path masked(Path dir) {
        float[] mask = new float[H * W];
        boolean[] r = region(0);
        for (int k = 0; k < mask.length; k++) mask[k] = r[k] ? 1 : 0;
        return new TinyOnnx(-1, 2, H, W)
                .init("mask", mask, 1, 1, H, W)
                .init("w1", TinyOnnx.values(4 * 2 * 9, 1, -0.5, 0.5), 4, 2, 3, 3)
                .init("w2", TinyOnnx.values(4 * 4 * 9, 2, 0, 0.5), 4, 4, 3, 3)
                .init("fc", TinyOnnx.values(3 * 4, 3, 0.1, 1), 3, 4)
                .init("fcb", new float[] {0.1f, -0.2f, 0.3f}, 3)
                .node("masking", "Mul", in("x", "mask"), "xm")
                .node("c1", "Conv", in("xm", "w1"), "a1", ints("pads", 1, 1, 1, 1))
                .node("r1", "Relu", in("a1"), "h1")
                .node("c2", "Conv", in("h1", "w2"), "a2", ints("pads", 1, 1, 1, 1))
                .node("r2", "Relu", in("a2"), "h2")
                .node("gap", "GlobalAveragePool", in("h2"), "p")
                .node("flat", "Flatten", in("p"), "f")
                .node("fc", "Gemm", in("f", "fc", "fcb"), "y", i("transB", 1))
                .write(dir, "masked");
    }

    static Tensor maskedInput() { return Tensor.of(TinyOnnx.values(2 * H * W, 9, 0.2, 1.2), 1, 2, H, W); }

    /** Linear weights [3, 2·6·6] and bias of the linear models. */
    static final float[] LINEAR_W = TinyOnnx.values(3 * 72, 4, -1, 1), LINEAR_B = {0.5f, -0.25f, 0f};

    /** y = W · flatten(x) + b for x [N, 2, 6, 6], as ONNX. */
    static Path linearOnnx(Path dir) {
        return new TinyOnnx(-1, 2, 6, 6).init("w", LINEAR_W, 3, 72).init("b", LINEAR_B, 3)
                .node("flat", "Flatten", in("x"), "f").node("fc", "Gemm", in("f", "w", "b"), "y", i("transB", 1))
                .write(dir, "linear");
    }

    /** The same linear model as layers (Flatten, Linear). */
    static LayerModelExplainable linearLayers() {
        Model m = Model.build(ModelSpec.parse("""
                {"name": "linear", "input": [2, 6, 6], "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}"""), DType.F32, 1);
        set(m, "1.weight", LINEAR_W);
        set(m, "1.bias", LINEAR_B);
        return new LayerModelExplainable(m);
    }

    /** The Grad-CAM example's input [1, 1, 3, 3], conv weights [2, 1, 2, 2] and classifier [2, 8] (see GradCamTest). */
    static final float[] CAM_X = {1, 2, 0, 0, 1, 3, 2, 0, 1}, CAM_W = {1, 0, 0, 1, 0, 1, 1, 0},
            CAM_FC = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1, 1, 1, 1, -1, 0, 0, -1};

    static Path camOnnx(Path dir) {
        return new TinyOnnx(1, 1, 3, 3).init("w", CAM_W, 2, 1, 2, 2).init("fc", CAM_FC, 2, 8)
                .node("conv", "Conv", in("x", "w"), "a").node("flat", "Flatten", in("a"), "f")
                .node("fc", "Gemm", in("f", "fc"), "y", i("transB", 1)).write(dir, "cam");
    }

    static LayerModelExplainable camLayers() {
        Model m = Model.build(ModelSpec.parse("""
                {"name": "cam", "input": [1, 3, 3], "layers": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 2, "bias": false},
                  {"type": "Flatten"}, {"type": "Linear", "out_features": 2, "bias": false}]}"""), DType.F32, 1);
        set(m, "0.weight", CAM_W);
        set(m, "2.weight", CAM_FC);
        return new LayerModelExplainable(m);
    }

    private static void set(Model m, String name, float[] v) {
        Tensor p = m.parameters().get(name).value();
        try (Tensor t = Tensor.of(v, p.shape())) {
            p.copyFrom(t);
        }
    }
}
