package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.MemoryReport;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;

/**
 * Activations with parameters fuse into convolution and GEMM epilogues: a MobileNetV2-style block (1×1 Conv →
 * BatchNormalization → Clip(0,6) → depthwise 3×3 Conv → Clip(0,6) → 1×1 Conv) runs as three kernel calls whose plan
 * names the fused Clip, and computes what the unfused session and a float64 reference compute.
 */
class ActivationFusionTest {
    static final int C = 8, E = 24, H = 10, W = 9;

    @Test
    void mobileNetV2BlockFusesClipIntoEachConvolution() {
        for (int opset : new int[] {13, 10}) {   // Clip bounds as inputs (opset >= 11) and as attributes (opset < 11)
            byte[] model = mobileNetBlock(opset, 7 + opset).build().toByteArray();
            try (InferenceSession fused = InferenceSession.load(model, "mbv2-block", SessionOptions.DEFAULT);
                 InferenceSession unfused = InferenceSession.load(model, "mbv2-block", SessionOptions.DEFAULT.withFuseActivations(false))) {
                MemoryReport r = fused.memoryReport();
                assertEquals(List.of("expand: Conv+BatchNormalization+Clip(0,6)", "dw: Conv+Clip(0,6)", "project: Conv"), r.kernelCalls(),
                        "opset " + opset + ": " + r);
                assertEquals(2, r.fusedActivations());
                assertTrue(r.toString().contains("1× Conv+BatchNormalization+Clip(0,6), 1× Conv+Clip(0,6)"), r.toString());
                MemoryReport u = unfused.memoryReport();
                assertEquals(List.of("expand: Conv+BatchNormalization", "relu6a: Clip", "dw: Conv", "relu6b: Clip", "project: Conv"),
                        u.kernelCalls(), "opset " + opset + ": " + u);
                assertEquals(0, u.fusedActivations());

                try (Tensor x = random(42 + opset, -3, 3, 2, C, H, W); Tensor yf = fused.run(x); Tensor yu = unfused.run(x)) {
                    float[] a = yf.toFloatArray(), b = yu.toFloatArray();
                    double[] ref = reference(opset, x.toFloatArray(), 2);
                    int clippedHigh = 0;
                    for (int i = 0; i < a.length; i++) {
                        // fused and unfused add the same terms in the same float order: equal up to the GEMM path's
                        // summation (the fused Clip takes the tile-store path where an unfused IDENTITY may store
                        // straight from registers), i.e. a few float ulps of the output magnitude
                        assertTrue(Math.abs(a[i] - b[i]) <= 1e-6 * (1 + Math.abs(b[i])), "element " + i + ": fused " + a[i] + ", unfused " + b[i]);
                        assertTrue(Math.abs(a[i] - ref[i]) <= 1e-5 * (1 + Math.abs(ref[i])), "element " + i + ": fused " + a[i] + ", float64 " + ref[i]);
                    }
                    for (double v : hidden) if (v == 6) clippedHigh++;
                    assertTrue(clippedHigh > 0, "the data should drive some activations past 6, or the test shows nothing");
                }
            }
        }
    }

    /**
     * MobileNetV2's residual is {@code Add(block input, projection)}: the convolution on the Add's second input, the
     * first read elsewhere too (here the graph input). The Add still fuses into the projection as its residual.
     */
    @Test
    void residualAddFusesWhenTheConvolutionIsItsSecondInput() {
        var m = mobileNetBlock(13, 5);
        var g = m.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getName().equals("project")) g.setNode(i, g.getNode(i).toBuilder().setOutput(0, "p").build());
        }
        g.addNode(node("res", "Add", List.of("x", "p"), "y"));
        byte[] model = m.build().toByteArray();
        try (InferenceSession fused = InferenceSession.load(model, "mbv2-residual", SessionOptions.DEFAULT);
             InferenceSession unfused = InferenceSession.load(model, "mbv2-residual", SessionOptions.DEFAULT.withFuseActivations(false))) {
            MemoryReport r = fused.memoryReport();
            assertEquals(List.of("expand: Conv+BatchNormalization+Clip(0,6)", "dw: Conv+Clip(0,6)", "project: Conv+Add"),
                    r.kernelCalls(), r.toString());
            try (Tensor x = random(11, -3, 3, 2, C, H, W); Tensor yf = fused.run(x); Tensor yu = unfused.run(x)) {
                float[] a = yf.toFloatArray(), b = yu.toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertTrue(Math.abs(a[i] - b[i]) <= 1e-6 * (1 + Math.abs(b[i])), "element " + i + ": fused " + a[i] + ", unfused " + b[i]);
                }
            }
        }
    }

    @Test
    void gemmFusesHardSwishAndConvFusesHardSigmoidAndSelu() {
        String[][] acts = {{"HardSwish"}, {"HardSigmoid", "alpha", "0.3", "beta", "0.4"}, {"Selu"}};
        String[] labels = {"Gemm+HardSwish", "Conv+HardSigmoid(0.3,0.4)", "Conv+Selu(1.6732632,1.050701)"};
        for (int k = 0; k < acts.length; k++) {
            boolean gemm = k == 0;
            byte[] model = singleOp(gemm, acts[k]).build().toByteArray();
            try (InferenceSession fused = InferenceSession.load(model, "m", SessionOptions.DEFAULT);
                 InferenceSession unfused = InferenceSession.load(model, "m", SessionOptions.DEFAULT.withFuseActivations(false))) {
                assertEquals(List.of("op: " + labels[k]), fused.memoryReport().kernelCalls());
                assertEquals(2, unfused.memoryReport().kernelCalls().size());
                int[] shape = gemm ? new int[] {3, 6} : new int[] {1, 3, 5, 5};
                try (Tensor x = random(k, -4, 4, shape); Tensor a = fused.run(x); Tensor b = unfused.run(x)) {
                    assertTrue(Fixtures.maxRelError(a, b) <= 1e-6, labels[k] + ": " + Fixtures.maxRelError(a, b));
                }
            }
        }
    }

    @Test
    void invertedClipBoundsStayUnfusedAndAreRejectedNamingTheNode() {
        // max > min is required; an inverted Clip stays a separate node and fails planning with a message naming it
        var m = mobileNetBlock(13, 1);
        m.getGraphBuilder().addInitializer(scalar("minus", -1f));
        var nodes = m.getGraphBuilder().getNodeList();
        var g = m.getGraphBuilder().clearNode();
        for (var n : nodes) {
            g.addNode(n.getName().equals("relu6b") ? n.toBuilder().setInput(1, "six").setInput(2, "minus").build() : n);
        }
        OnnxFormatException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class,
                () -> InferenceSession.load(m.build().toByteArray(), "bad", SessionOptions.DEFAULT).close());
        assertTrue(e.getMessage().contains("relu6b") && e.getMessage().contains("min 6.0 > max -1.0"), e.getMessage());
    }

    @Test
    void vjpOfAnOptimizerFusedNodeAppliesItsResidualAndActivation() {
        // the operator table accepts a Conv/Gemm carrying the optimizer's fused activation (and a Conv its residual);
        // the differentiable graph must compute act(conv + residual) as the planner does, not drop what was fused
        String[][] cases = {{"Conv", "CLIP", "-0.5", "0.75"}, {"Gemm", "HARD_SIGMOID", "0.3", "0.4"}, {"Gemm", "SELU", "1.5", "1.1"}};
        for (String[] c : cases) {
            boolean gemm = c[0].equals("Gemm");
            float a = Float.parseFloat(c[2]), b = Float.parseFloat(c[3]);
            byte[] fusedModel = fusedByHand(gemm, c[1], a, b, true).build().toByteArray();
            byte[] plainModel = fusedByHand(gemm, c[1], a, b, false).build().toByteArray();
            int[] xs = gemm ? new int[] {3, 6} : new int[] {1, 3, 5, 5};
            int[] ys = gemm ? new int[] {3, 6} : new int[] {1, 3, 5, 5};
            try (OnnxGraph gf = OnnxLoader.parse(fusedModel, "fused", OnnxLimits.DEFAULT);
                 OnnxGraph gp = OnnxLoader.parse(plainModel, "plain", OnnxLimits.DEFAULT);
                 InferenceSession session = InferenceSession.load(fusedModel, "fused", SessionOptions.DEFAULT);
                 Tensor x32 = random(5, -2, 2, xs); Tensor x = x32.to(tessera.memory.DType.F64);
                 Tensor gy32 = random(6, -1, 1, ys); Tensor gy = gy32.to(tessera.memory.DType.F64);
                 Tensor y32 = session.run(x32);
                 tessera.onnx.infer.DifferentiableGraph.Gradients rf = tessera.onnx.infer.DifferentiableGraph.vjp(gf, x, gy, tessera.memory.DType.F64);
                 tessera.onnx.infer.DifferentiableGraph.Gradients rp = tessera.onnx.infer.DifferentiableGraph.vjp(gp, x, gy, tessera.memory.DType.F64)) {
                String what = c[0] + "+" + c[1];
                assertTrue(Fixtures.maxRelError(rf.output(), rp.output()) <= 1e-12, what + ": vjp output, fused vs separate nodes");
                assertTrue(Fixtures.maxRelError(rf.output(), y32) <= 1e-5, what + ": vjp output vs the planned session");
                assertTrue(Fixtures.maxRelError(rf.input(), rp.input()) <= 1e-12, what + ": input gradient");
                for (String w : List.of("w", "b")) {
                    assertTrue(Fixtures.maxRelError(rf.initializers().get(w), rp.initializers().get(w)) <= 1e-12, what + ": gradient of " + w);
                }
            }
        }
    }

    // ------------------------------------------------------------------ model construction

    private double[] hidden = new double[0];

    /** Weights of the block (drawn from one seed), kept for the float64 reference. */
    private float[] w1, b1, gamma, beta, mean, var, wd, bd, w3;

    private OnnxProto.ModelProto.Builder mobileNetBlock(int opset, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        w1 = uniform(r, E * C, -0.8, 0.8);
        b1 = uniform(r, E, -1, 1);
        gamma = uniform(r, E, 0.5, 2.5);
        beta = uniform(r, E, -1, 2);
        mean = uniform(r, E, -0.5, 0.5);
        var = uniform(r, E, 0.5, 1.5);
        wd = uniform(r, E * 9, -0.6, 0.9);
        bd = uniform(r, E, -1, 1);
        w3 = uniform(r, C * E, -0.5, 0.5);
        var g = OnnxProto.GraphProto.newBuilder().setName("block").addInput(input("x", 2, C, H, W))
                .addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        g.addInitializer(tensor("w1", w1, E, C, 1, 1)).addInitializer(tensor("b1", b1, E)).addInitializer(tensor("gamma", gamma, E))
                .addInitializer(tensor("beta", beta, E)).addInitializer(tensor("mean", mean, E)).addInitializer(tensor("var", var, E))
                .addInitializer(tensor("wd", wd, E, 1, 3, 3)).addInitializer(tensor("bd", bd, E)).addInitializer(tensor("w3", w3, C, E, 1, 1));
        g.addNode(node("expand", "Conv", List.of("x", "w1", "b1"), "c1"));
        g.addNode(node("bn", "BatchNormalization", List.of("c1", "gamma", "beta", "mean", "var"), "n1"));
        g.addNode(clip("relu6a", opset, "n1", "r1"));
        g.addNode(node("dw", "Conv", List.of("r1", "wd", "bd"), "c2").toBuilder().addAttribute(ints("pads", 1, 1, 1, 1))
                .addAttribute(OnnxProto.AttributeProto.newBuilder().setName("group").setType(OnnxProto.AttributeProto.AttributeType.INT).setI(E))
                .build());
        g.addNode(clip("relu6b", opset, "c2", "r2"));
        g.addNode(node("project", "Conv", List.of("r2", "w3"), "y"));
        if (opset >= 11) g.addInitializer(scalar("zero", 0f)).addInitializer(scalar("six", 6f));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(opset >= 11 ? 8 : 5)
                .addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(g);
    }

    private static OnnxProto.NodeProto clip(String name, int opset, String in, String out) {
        if (opset >= 11) return node(name, "Clip", List.of(in, "zero", "six"), out);
        return node(name, "Clip", List.of(in), out).toBuilder().addAttribute(floatAttr("min", 0f)).addAttribute(floatAttr("max", 6f)).build();
    }

    /** x → Gemm(x, w, b) or Conv(x, w, b) → one activation node. */
    private static OnnxProto.ModelProto.Builder singleOp(boolean gemm, String[] act) {
        SplittableRandom r = new SplittableRandom(3);
        var g = OnnxProto.GraphProto.newBuilder().setName("g").addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        if (gemm) {
            g.addInput(input("x", 3, 6)).addInitializer(tensor("w", uniform(r, 6 * 5, -1, 1), 6, 5)).addInitializer(tensor("b", uniform(r, 5, -1, 1), 5));
            g.addNode(node("op", "Gemm", List.of("x", "w", "b"), "t"));
        } else {
            g.addInput(input("x", 1, 3, 5, 5)).addInitializer(tensor("w", uniform(r, 4 * 3 * 9, -1, 1), 4, 3, 3, 3))
                    .addInitializer(tensor("b", uniform(r, 4, -1, 1), 4));
            g.addNode(node("op", "Conv", List.of("x", "w", "b"), "t"));
        }
        var a = node("act", act[0], List.of("t"), "y").toBuilder();
        for (int i = 1; i + 1 < act.length; i += 2) a.addAttribute(floatAttr(act[i], Float.parseFloat(act[i + 1])));
        g.addNode(a.build());
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(14)).setGraph(g);
    }

    /**
     * x → Conv(x, w, b) + x (3 channels, same padding) or Gemm(x, w, b) (6 → 6), then {@code act(a, b)}: as one node
     * carrying the optimizer's attributes ({@code fused}) or as separate Add / activation nodes.
     */
    private static OnnxProto.ModelProto.Builder fusedByHand(boolean gemm, String act, float a, float b, boolean fused) {
        SplittableRandom r = new SplittableRandom(11);
        var g = OnnxProto.GraphProto.newBuilder().setName("g").addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        OnnxProto.NodeProto.Builder op;
        if (gemm) {
            g.addInput(input("x", 3, 6)).addInitializer(tensor("w", uniform(r, 36, -1, 1), 6, 6)).addInitializer(tensor("b", uniform(r, 6, -1, 1), 6));
            op = node("op", "Gemm", List.of("x", "w", "b"), fused ? "y" : "t").toBuilder();
        } else {
            g.addInput(input("x", 1, 3, 5, 5)).addInitializer(tensor("w", uniform(r, 3 * 3 * 9, -0.5, 0.5), 3, 3, 3, 3))
                    .addInitializer(tensor("b", uniform(r, 3, -1, 1), 3));
            op = node("op", "Conv", fused ? List.of("x", "w", "b", "x") : List.of("x", "w", "b"), fused ? "y" : "c").toBuilder()
                    .addAttribute(ints("pads", 1, 1, 1, 1));
        }
        if (fused) {
            op.addAttribute(OnnxProto.AttributeProto.newBuilder().setName(OpArgs.Fused.ACT).setType(OnnxProto.AttributeProto.AttributeType.STRING)
                    .setS(com.google.protobuf.ByteString.copyFromUtf8(act)));
            op.addAttribute(floatAttr(OpArgs.Fused.ALPHA, a)).addAttribute(floatAttr(OpArgs.Fused.BETA, b));
            g.addNode(op.build());
        } else {
            if (act.equals("CLIP")) g.addNode(constantNode("lo", a)).addNode(constantNode("hi", b));
            g.addNode(op.build());
            if (!gemm) g.addNode(node("add", "Add", List.of("c", "x"), "t"));
            g.addNode(switch (act) {
                case "CLIP" -> node("act", "Clip", List.of("t", "lo", "hi"), "y");
                case "HARD_SIGMOID" -> node("act", "HardSigmoid", List.of("t"), "y").toBuilder().addAttribute(floatAttr("alpha", a))
                        .addAttribute(floatAttr("beta", b)).build();
                default -> node("act", "Selu", List.of("t"), "y").toBuilder().addAttribute(floatAttr("alpha", a))
                        .addAttribute(floatAttr("gamma", b)).build();
            });
        }
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(14)).setGraph(g);
    }

    /** A Constant node (not an initializer, so not a parameter of the differentiable graph). */
    private static OnnxProto.NodeProto constantNode(String out, float v) {
        return node(out + "#const", "Constant", List.of(), out).toBuilder().addAttribute(OnnxProto.AttributeProto.newBuilder().setName("value")
                .setType(OnnxProto.AttributeProto.AttributeType.TENSOR).setT(scalar(out, v))).build();
    }

    // ------------------------------------------------------------------ float64 reference of the block

    private double[] reference(int opset, float[] x, int n) {
        double[] c1 = new double[n * E * H * W];
        for (int b = 0; b < n; b++) for (int e = 0; e < E; e++) for (int p = 0; p < H * W; p++) {
            double s = b1[e];
            for (int c = 0; c < C; c++) s += (double) w1[e * C + c] * x[(b * C + c) * H * W + p];
            s = (s - mean[e]) / Math.sqrt(var[e] + 1e-5) * gamma[e] + beta[e];
            c1[(b * E + e) * H * W + p] = Math.min(Math.max(s, 0), 6);
        }
        double[] c2 = new double[c1.length];
        for (int b = 0; b < n; b++) for (int e = 0; e < E; e++) for (int i = 0; i < H; i++) for (int j = 0; j < W; j++) {
            double s = bd[e];
            for (int u = 0; u < 3; u++) for (int v = 0; v < 3; v++) {
                int ii = i + u - 1, jj = j + v - 1;
                if (ii >= 0 && ii < H && jj >= 0 && jj < W) s += (double) wd[e * 9 + u * 3 + v] * c1[((b * E + e) * H + ii) * W + jj];
            }
            c2[((b * E + e) * H + i) * W + j] = Math.min(Math.max(s, 0), 6);
        }
        hidden = c2;
        double[] y = new double[n * C * H * W];
        for (int b = 0; b < n; b++) for (int c = 0; c < C; c++) for (int p = 0; p < H * W; p++) {
            double s = 0;
            for (int e = 0; e < E; e++) s += (double) w3[c * E + e] * c2[(b * E + e) * H * W + p];
            y[(b * C + c) * H * W + p] = s;
        }
        return y;
    }

    // ------------------------------------------------------------------ protobuf helpers

    private static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return f;
    }

    private static Tensor random(long seed, double lo, double hi, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return Tensor.of(uniform(new SplittableRandom(seed), n, lo, hi), shape);
    }

    private static OnnxProto.ValueInfoProto input(String name, int... dims) {
        var shape = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : dims) shape.addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return OnnxProto.ValueInfoProto.newBuilder().setName(name).setType(OnnxProto.TypeProto.newBuilder()
                .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    private static OnnxProto.TensorProto tensor(String name, float[] data, long... dims) {
        var t = OnnxProto.TensorProto.newBuilder().setName(name).setDataType(1);
        for (long d : dims) t.addDims(d);
        for (float f : data) t.addFloatData(f);
        return t.build();
    }

    private static OnnxProto.TensorProto scalar(String name, float v) {
        return OnnxProto.TensorProto.newBuilder().setName(name).setDataType(1).addFloatData(v).build();
    }

    private static OnnxProto.NodeProto node(String name, String op, List<String> in, String out) {
        return OnnxProto.NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addOutput(out).build();
    }

    private static OnnxProto.AttributeProto floatAttr(String name, float v) {
        return OnnxProto.AttributeProto.newBuilder().setName(name).setType(OnnxProto.AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static OnnxProto.AttributeProto ints(String name, long... v) {
        var a = OnnxProto.AttributeProto.newBuilder().setName(name).setType(OnnxProto.AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }
}
