package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.f;
import static tessera.onnx.OpTableWalkTest.floatList;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.i;
import static tessera.onnx.OpTableWalkTest.ints;
import static tessera.onnx.OpTableWalkTest.longs;
import static tessera.onnx.OpTableWalkTest.node;
import static tessera.onnx.OpTableWalkTest.s;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto.AttributeProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/**
 * Central finite differences of L = Σ Y⊙GY (GY Gaussian) against {@code DifferentiableGraph.vjp} in float64, for
 * the operators with their own gradient map ({@code Resize}: every mode and several coordinate transformations,
 * scales up and down, sizes; seeded training-mode {@code Dropout}) and for the operators run as rewrites into table
 * operators (LayerNormalization, InstanceNormalization, training-mode BatchNormalization, ReduceL2/SumSquare/Min,
 * GlobalLpPool, Mean, DepthToSpace/SpaceToDepth, Split, Tile, Expand), end to end through the load-time rewrite: the
 * input gradient at 8 coordinates and every float initializer's gradient at 4 coordinates each. Input steps are 1e-6
 * on float64 inputs; initializers are float32, so their step is 2^-12 and the quotient uses the perturbation actually
 * stored. Check: |fd − analytic| ≤ 1e-5 + 1e-3·|fd|. The inference session's output must also match the vjp forward
 * (1e-4, float32 kernels).
 */
class GraphFiniteDifferenceTest {
    static final int[] X = {2, 3, 5, 4};

    private static OpTableWalkTest.Example ex(int[] shape, boolean positive, List<NodeProto> nodes, TensorProto... inits) {
        Map<String, TensorProto> m = new LinkedHashMap<>();
        for (TensorProto p : inits) m.put(p.getName(), p);
        return new OpTableWalkTest.Example(shape, positive, nodes, m);
    }

    private static Arguments one(String label, int[] shape, String op, List<String> in, List<TensorProto> inits, AttributeProto... attrs) {
        return Arguments.of(label, ex(shape, false, List.of(node(op, in, "y", attrs)), inits.toArray(TensorProto[]::new)));
    }

    private static Arguments resize(String label, int[] shape, TensorProto scalesOrSizes, boolean sizes, AttributeProto... attrs) {
        List<String> in = sizes ? List.of("x", "", "", scalesOrSizes.getName()) : List.of("x", "", scalesOrSizes.getName());
        return one("Resize " + label, shape, "Resize", in, List.of(scalesOrSizes), attrs);
    }

    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        int[] r = {1, 2, 5, 6};
        TensorProto up = floatList("up", 1, 1, 1.6f, 1.5f), down = floatList("down", 1, 1, 0.6f, 0.75f);
        TensorProto to = longs("to", new long[] {1, 2, 7, 3}, 4);
        for (String ct : new String[] {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"}) {
            c.add(resize("linear up " + ct, r, up, false, s("mode", "linear"), s("coordinate_transformation_mode", ct)));
            c.add(resize("linear down " + ct, r, down, false, s("mode", "linear"), s("coordinate_transformation_mode", ct)));
            c.add(resize("cubic up " + ct, r, up, false, s("mode", "cubic"), s("coordinate_transformation_mode", ct)));
        }
        c.add(resize("cubic down a=-0.5 exclude_outside", r, down, false, s("mode", "cubic"), f("cubic_coeff_a", -0.5f), i("exclude_outside", 1)));
        c.add(resize("cubic sizes align_corners", r, to, true, s("mode", "cubic"), s("coordinate_transformation_mode", "align_corners")));
        c.add(resize("linear sizes half_pixel", r, to, true, s("mode", "linear")));
        for (String nm : new String[] {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
            c.add(resize("nearest up " + nm, r, up, false, s("mode", "nearest"), s("nearest_mode", nm)));
            c.add(resize("nearest down asymmetric " + nm, r, down, false, s("mode", "nearest"), s("nearest_mode", nm),
                    s("coordinate_transformation_mode", "asymmetric")));
        }
        c.add(resize("nearest sizes align_corners", r, to, true, s("mode", "nearest"), s("coordinate_transformation_mode", "align_corners")));

        TensorProto ls = floats("ls", 0.5, 1.5, 5, 4), lb = floats("lb", -0.3, 0.3, 5, 4);
        c.add(one("LayerNormalization axis=-2", X, "LayerNormalization", List.of("x", "ls", "lb"), List.of(ls, lb), i("axis", -2)));
        c.add(one("LayerNormalization axis=1", X, "LayerNormalization", List.of("x", "lsc", "lbc"),
                List.of(floats("lsc", 0.5, 1.5, 3, 5, 4), floats("lbc", -0.3, 0.3, 3, 5, 4)), i("axis", 1), f("epsilon", 1e-3f)));
        c.add(one("LayerNormalization last, no bias", X, "LayerNormalization", List.of("x", "l4"), List.of(floats("l4", 0.5, 1.5, 4))));
        c.add(one("InstanceNormalization", X, "InstanceNormalization", List.of("x", "is", "ib"),
                List.of(floats("is", 0.5, 1.5, 3), floats("ib", -0.3, 0.3, 3)), f("epsilon", 1e-4f)));
        c.add(one("InstanceNormalization 3-D input", new int[] {2, 3, 7}, "InstanceNormalization", List.of("x", "is", "ib"),
                List.of(floats("is", 0.5, 1.5, 3), floats("ib", -0.3, 0.3, 3))));
        c.add(one("ReduceL2", X, "ReduceL2", List.of("x"), List.of(), ints("axes", 1, 3)));
        c.add(one("ReduceSumSquare", X, "ReduceSumSquare", List.of("x"), List.of(), ints("axes", 2), i("keepdims", 0)));
        c.add(one("ReduceMin", X, "ReduceMin", List.of("x"), List.of(), ints("axes", -1)));
        for (int p : new int[] {1, 2, 3}) c.add(one("GlobalLpPool p=" + p, X, "GlobalLpPool", List.of("x"), List.of(), i("p", p)));
        c.add(one("Mean", X, "Mean", List.of("x", "m1", "m2"), List.of(floats("m1", -1, 1, 3, 1, 1), floats("m2", -1, 1, 4))));
        c.add(one("DepthToSpace DCR", new int[] {2, 8, 3, 2}, "DepthToSpace", List.of("x"), List.of(), i("blocksize", 2)));
        c.add(one("DepthToSpace CRD", new int[] {1, 18, 2, 3}, "DepthToSpace", List.of("x"), List.of(), i("blocksize", 3), s("mode", "CRD")));
        c.add(one("SpaceToDepth", new int[] {2, 3, 4, 6}, "SpaceToDepth", List.of("x"), List.of(), i("blocksize", 2)));
        c.add(one("Tile", X, "Tile", List.of("x", "reps"), List.of(longs("reps", new long[] {2, 1, 1, 3}, 4))));
        c.add(one("Expand", new int[] {3, 1, 4}, "Expand", List.of("x", "es"), List.of(longs("es", new long[] {2, 1, 5, 1}, 4))));
        // 3-D (rank-5) convolution and pooling: the volume kernels' gradients through vjp
        int[] v = {2, 3, 4, 5, 4};
        c.add(one("Conv 3-D strided dilated padded", v, "Conv", List.of("x", "w3", "b3"), List.of(floats("w3", -0.5, 0.5, 4, 3, 2, 3, 2),
                floats("b3", -0.5, 0.5, 4)), ints("strides", 1, 2, 1), ints("dilations", 2, 1, 1), ints("pads", 1, 0, 1, 0, 1, 1)));
        c.add(one("Conv 3-D grouped SAME_UPPER", v, "Conv", List.of("x", "wg"), List.of(floats("wg", -0.5, 0.5, 6, 1, 2, 2, 3)),
                i("group", 3), s("auto_pad", "SAME_UPPER"), ints("strides", 2, 2, 1)));
        c.add(one("ConvTranspose 3-D strided output_padding", v, "ConvTranspose", List.of("x", "wt", "bt"), List.of(floats("wt", -0.5, 0.5, 3, 2, 2, 3, 2),
                floats("bt", -0.5, 0.5, 2)), ints("strides", 2, 1, 2), ints("output_padding", 1, 0, 1), ints("pads", 0, 1, 0, 1, 1, 0)));
        c.add(one("MaxPool 3-D ceil_mode", v, "MaxPool", List.of("x"), List.of(), ints("kernel_shape", 2, 3, 2), ints("strides", 2, 2, 1),
                ints("pads", 1, 1, 0, 0, 1, 1), i("ceil_mode", 1)));
        for (int cip = 0; cip <= 1; cip++) {
            c.add(one("AveragePool 3-D count_include_pad=" + cip, v, "AveragePool", List.of("x"), List.of(), ints("kernel_shape", 3, 2, 2),
                    ints("pads", 1, 1, 0, 2, 0, 1), ints("dilations", 1, 2, 1), i("count_include_pad", cip)));
        }
        c.add(one("LpPool 3-D", v, "LpPool", List.of("x"), List.of(), ints("kernel_shape", 2, 2, 2), ints("strides", 1, 2, 2)));
        // training mode: BatchNormalization through the batch statistics; seeded Dropout (ratio and mode as Constants, not parameters)
        c.add(one("BatchNormalization training_mode", X, "BatchNormalization", List.of("x", "bs", "bb", "bm", "bv"), List.of(floats("bs", 0.5, 1.5, 3),
                floats("bb", -0.3, 0.3, 3), floats("bm", -0.5, 0.5, 3), floats("bv", 0.5, 1.5, 3)), i("training_mode", 1), f("epsilon", 1e-3f)));
        c.add(Arguments.of("Dropout training_mode seeded", ex(X, false, List.of(
                node("Constant", List.of(), "r", OpTableWalkTest.t("value", floats("rv", 0.4, 0.4, new int[0]))),
                node("Constant", List.of(), "t", OpTableWalkTest.t("value", TrainingModeTest.bool("tv", true))),
                node("Dropout", List.of("x", "r", "t"), "y", i("seed", 3))))));
        // Split: parts recombined with different weights so every part's gradient is visible
        for (boolean sizes : new boolean[] {true, false}) {
            var sp = NodeProto.newBuilder().setName("split").setOpType("Split").addInput("x").addOutput("p0").addOutput("p1").addOutput("p2")
                    .addAttribute(i("axis", -1));
            if (sizes) sp.addInput("sp");
            List<NodeProto> nodes = List.of(sp.build(), node("Mul", List.of("p1", "w"), "q1"), node("Concat", List.of("q1", "p2", "p0"), "y", i("axis", -1)));
            List<TensorProto> inits = new ArrayList<>(List.of(floats("w", 0.5, 2, 1)));
            if (sizes) inits.add(longs("sp", new long[] {1, 2, 3}, 3));
            c.add(Arguments.of("Split " + (sizes ? "sizes" : "equal"), ex(new int[] {2, 3, sizes ? 6 : 9}, false, nodes, inits.toArray(TensorProto[]::new))));
        }
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(String label, OpTableWalkTest.Example e) {
        try (Tensor x32 = OpTableWalkTest.input(e); Tensor x = x32.to(DType.F64);
             OnnxGraph g = OnnxLoader.parse(OpTableWalkTest.model(e, x32, false), label, OnnxLimits.DEFAULT)) {
            Random rnd = new Random(label.hashCode());
            try (InferenceSession sess = InferenceSession.load(OpTableWalkTest.model(e, x32, false), label, SessionOptions.DEFAULT);
                 Tensor yi = sess.run(x32);
                 Tensor gy = Tensor.zeros(DType.F64, yi.shape())) {
                Tensor flat = gy.reshape((int) gy.numel());
                for (int k = 0; k < gy.numel(); k++) flat.set(rnd.nextGaussian(), k);
                try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
                    assertArrayEquals(yi.shape(), r.output().shape(), label + ": output shapes");
                    assertTrue(Fixtures.maxRelError(r.output(), yi) <= 1e-4, label + ": inference and vjp forward differ");
                    checkInput(label, g, x, gy, r.input().toDoubleArray(), rnd);
                    assertTrue(r.initializers().keySet().containsAll(g.floatInitializerNames()), label + ": initializer gradients");
                    for (Map.Entry<String, Tensor> w : r.initializers().entrySet()) {
                        // Resize's scales/sizes are hyper-parameters (the output's shape), not differentiable inputs
                        if (e.nodes().stream().anyMatch(n -> n.getOpType().equals("Resize") && n.getInputList().indexOf(w.getKey()) > 0)) continue;
                        checkInitializer(label, g, x, gy, w.getKey(), w.getValue().toDoubleArray(), rnd);
                    }
                }
            }
        }
    }

    private static void checkInput(String label, OnnxGraph g, Tensor x, Tensor gy, double[] grad, Random rnd) {
        Tensor flat = x.reshape((int) x.numel());
        double h = 1e-6;
        for (int t = 0; t < 8; t++) {
            int k = rnd.nextInt((int) x.numel());
            double v = flat.getDouble(k);
            flat.set(v + h, k);
            double lp = loss(g, x, gy);
            flat.set(v - h, k);
            double lm = loss(g, x, gy);
            flat.set(v, k);
            agree(label + ": d/dx[" + k + "]", (lp - lm) / (2 * h), grad[k]);
        }
    }

    private static void checkInitializer(String label, OnnxGraph g, Tensor x, Tensor gy, String name, double[] grad, Random rnd) {
        Tensor w = g.initializers().get(name);
        Tensor flat = w.reshape((int) w.numel());
        double h = 0x1p-12;
        for (int t = 0; t < 4; t++) {
            int k = rnd.nextInt((int) w.numel());
            double v = flat.getDouble(k);
            flat.set(v + h, k);
            double vp = flat.getDouble(k), lp = loss(g, x, gy);
            flat.set(v - h, k);
            double vm = flat.getDouble(k), lm = loss(g, x, gy);
            flat.set(v, k);
            agree(label + ": d/d" + name + "[" + k + "]", (lp - lm) / (vp - vm), grad[k]);
        }
    }

    private static void agree(String what, double fd, double analytic) {
        assertTrue(Math.abs(fd - analytic) <= 1e-5 + 1e-3 * Math.abs(fd), what + " analytic " + analytic + " vs finite difference " + fd);
    }

    private static double loss(OnnxGraph g, Tensor x, Tensor gy) {
        try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
            double[] y = r.output().toDoubleArray(), w = gy.toDoubleArray();
            double s = 0;
            for (int k = 0; k < y.length; k++) s += y[k] * w[k];
            return s;
        }
    }
}
