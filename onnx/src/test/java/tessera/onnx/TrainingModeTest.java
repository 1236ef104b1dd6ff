package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.f;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.i;
import static tessera.onnx.OpTableWalkTest.node;
import static tessera.onnx.OpTableWalkTest.t;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/**
 * Training-mode BatchNormalization (batch statistics, running-statistics outputs) and Dropout (seeded: numpy's legacy
 * generator, the same mask every run; unseeded: a fresh mask every run) in the inference session and in
 * {@code DifferentiableGraph}, against direct float64 computations; and the refusals that remain.
 */
class TrainingModeTest {
    static final int[] X = {2, 3, 5};

    static TensorProto bool(String name, boolean v) {
        return TensorProto.newBuilder().setName(name).setDataType(9).addInt32Data(v ? 1 : 0).build();
    }

    /** An opset-15 model with float32 input x of {@code shape} and the given outputs. */
    static byte[] model(int[] shape, List<NodeProto> nodes, List<TensorProto> inits, String... outputs) {
        var s = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : shape) s.addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        var g = OnnxProto.GraphProto.newBuilder().setName("training").addAllNode(nodes).addAllInitializer(inits)
                .addInput(OnnxProto.ValueInfoProto.newBuilder().setName("x").setType(OnnxProto.TypeProto.newBuilder()
                        .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))));
        for (String o : outputs) g.addOutput(OnnxProto.ValueInfoProto.newBuilder().setName(o));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(15))
                .setGraph(g).build().toByteArray();
    }

    /** Dropout(x, ratio r as a Constant, training_mode true as a Constant) → y, mask; seeded when {@code seed} is not null. */
    static byte[] dropout(int[] shape, float r, Long seed, boolean withMask) {
        var d = NodeProto.newBuilder().setName("drop").setOpType("Dropout").addInput("x").addInput("r").addInput("t").addOutput("y");
        if (withMask) d.addOutput("mask");
        if (seed != null) d.addAttribute(i("seed", seed));
        List<NodeProto> nodes = List.of(node("Constant", List.of(), "r", t("value", floats("rv", r, r, new int[0]))),
                node("Constant", List.of(), "t", t("value", bool("tv", true))), d.build());
        return withMask ? model(shape, nodes, List.of(), "y", "mask") : model(shape, nodes, List.of(), "y");
    }

    static Tensor input(int[] shape, long seed) {
        Random rnd = new Random(seed);
        Tensor x = Tensor.zeros(DType.F32, shape);
        Tensor flat = x.reshape((int) x.numel());
        for (int k = 0; k < x.numel(); k++) flat.set(rnd.nextGaussian(), k);
        return x;
    }

    /** numpy.random.RandomState(seed).uniform(0, 1, n) ≥ r, from numpy's draws in the fixture of tools/make_mt19937_fixture.py. */
    static double[] numpyMask(long seed, float r, int n) {
        String[] lines = new String(Fixtures.bytes("mt19937-numpy.txt"), java.nio.charset.StandardCharsets.UTF_8).split("\n");
        int at = java.util.Arrays.asList(lines).indexOf("seed " + seed);
        if (at < 0) throw new IllegalStateException("seed " + seed + " is not in the fixture");
        double[] m = new double[n];
        for (int k = 0; k < n; k++) m[k] = Double.parseDouble(lines[at + 1 + k]) >= r ? 1 : 0;
        return m;
    }

    @Test
    void seededDropoutDrawsNumpysMaskTheSameEveryRun() {
        float r = 0.3f;
        try (Tensor x = input(X, 1);
             InferenceSession s = InferenceSession.load(dropout(X, r, 42L, true), "seeded", SessionOptions.DEFAULT);
             InferenceSession s2 = InferenceSession.load(dropout(X, r, 42L, true), "seeded again", SessionOptions.DEFAULT)) {
            double[] want = numpyMask(42, r, 30), xs = x.toDoubleArray();
            double kept = 0;
            for (double v : want) kept += v;
            assertTrue(kept > 5 && kept < 30, "a mask that drops some and keeps most: kept " + kept);
            Map<String, Tensor> a = s.run(Map.of("x", x)), b = s.run(Map.of("x", x)), c = s2.run(Map.of("x", x));
            try {
                assertEquals(DType.U8, a.get("mask").dtype());
                assertArrayEquals(want, a.get("mask").toDoubleArray(), "mask: numpy's draws ≥ ratio");
                double[] y = a.get("y").toDoubleArray();
                for (int k = 0; k < y.length; k++) assertEquals((float) (want[k] * xs[k] / (1 - (double) r)), y[k], 0, "y[" + k + "]");
                for (Map<String, Tensor> o : List.of(b, c)) {
                    assertArrayEquals(a.get("mask").toDoubleArray(), o.get("mask").toDoubleArray(), "same seed, same mask");
                    assertArrayEquals(y, o.get("y").toDoubleArray());
                }
            } finally {
                for (Map<String, Tensor> o : List.of(a, b, c)) o.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void aSeedIsTakenModulo2To32() {
        try (Tensor x = input(X, 4); InferenceSession s = InferenceSession.load(dropout(X, 0.5f, -1L, true), "seed -1", SessionOptions.DEFAULT)) {
            Map<String, Tensor> o = s.run(Map.of("x", x));
            try {
                assertArrayEquals(numpyMask(4294967295L, 0.5f, 30), o.get("mask").toDoubleArray(), "seed -1 is numpy's seed 2^32 - 1");
            } finally {
                o.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void unseededDropoutDrawsAFreshMaskEveryRun() {
        int[] shape = {4, 64};
        try (Tensor x = Tensor.zeros(DType.F32, shape);
             InferenceSession s = InferenceSession.load(dropout(shape, 0.5f, null, true), "unseeded", SessionOptions.DEFAULT)) {
            x.fill(1);
            Map<String, Tensor> a = s.run(Map.of("x", x)), b = s.run(Map.of("x", x));
            try {
                double[] ma = a.get("mask").toDoubleArray(), mb = b.get("mask").toDoubleArray(), ya = a.get("y").toDoubleArray();
                assertNotEquals(java.util.Arrays.toString(ma), java.util.Arrays.toString(mb), "two runs, two masks (equal with probability 2^-256)");
                double kept = 0;
                for (int k = 0; k < ma.length; k++) {
                    assertEquals(2 * ma[k], ya[k], 0, "y = mask · x / (1 − 0.5)");
                    kept += ma[k];
                }
                assertTrue(kept > 64 && kept < 192, "about half kept: " + kept);
            } finally {
                a.values().forEach(Tensor::close);
                b.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void dropoutGradientIsTheScaledMask() {
        float r = 0.6f;
        byte[] m = dropout(X, r, 1L, false);
        try (Tensor x = input(X, 2); Tensor gy = input(X, 3); InferenceSession s = InferenceSession.load(m, "vjp", SessionOptions.DEFAULT);
             Tensor yi = s.run(x); OnnxGraph g = OnnxLoader.parse(m, "vjp", OnnxLimits.DEFAULT);
             DifferentiableGraph.Gradients v = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
            assertTrue(Fixtures.maxRelError(v.output(), yi) <= 1e-6, "vjp forward = inference (same seed, same mask)");
            double[] mask = numpyMask(1, r, 30), gx = v.input().toDoubleArray(), gys = gy.toDoubleArray();
            for (int k = 0; k < gx.length; k++) assertEquals(mask[k] * gys[k] / (1 - (double) r), gx[k], 1e-12, "dL/dx[" + k + "]");
        }
    }

    @Test
    void trainingDropoutRefusesARatioOutsideItsRangeAndAComputedMode() {
        var e = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(dropout(X, 1f, 1L, false), "ratio 1", SessionOptions.DEFAULT));
        assertTrue(e.getMessage().contains("'drop'") && e.getMessage().contains("ratio") && e.getMessage().contains("[0, 1)"), e.getMessage());
        List<NodeProto> nodes = List.of(node("ReduceMax", List.of("x"), "mx", i("keepdims", 0)), node("Greater", List.of("mx", "zero"), "t"),
                node("Dropout", List.of("x", "", "t"), "y"));
        var c = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(model(X, nodes, List.of(floats("zero", 0, 0, new int[0])), "y"),
                "computed mode", SessionOptions.DEFAULT));
        assertTrue(c.getMessage().contains("training_mode") && c.getMessage().contains("computed"), c.getMessage());
    }

    /** BatchNormalization(x, scale, B, mean, var, training_mode = 1) with the given outputs. */
    static byte[] batchNorm(int[] shape, float eps, float momentum, String... outputs) {
        int c = shape[1];
        var n = NodeProto.newBuilder().setName("bn").setOpType("BatchNormalization").addInput("x").addInput("s").addInput("b").addInput("m")
                .addInput("v").addAttribute(i("training_mode", 1)).addAttribute(f("epsilon", eps)).addAttribute(f("momentum", momentum));
        for (String o : outputs) n.addOutput(o);
        return model(shape, List.of(n.build()), List.of(floats("s", 0.5, 1.5, c), floats("b", -0.5, 0.5, c), floats("m", -1, 1, c),
                floats("v", 0.5, 2, c)), outputs);
    }

    @Test
    void batchNormTrainingUsesTheBatchStatisticsAndUpdatesTheRunningOnes() {
        for (int[] shape : new int[][] {{3, 2, 4, 5}, {6, 4}, {2, 3, 2, 2, 3}}) {
            float eps = 1e-3f, mom = 0.8f;
            byte[] m = batchNorm(shape, eps, mom, "y", "rm", "rv");
            try (Tensor x = input(shape, 11); InferenceSession s = InferenceSession.load(m, "bn", SessionOptions.DEFAULT);
                 OnnxGraph g = OnnxLoader.parse(m, "bn", OnnxLimits.DEFAULT)) {
                int c = shape[1], n = shape[0], sp = (int) (x.numel() / n / c);
                double[] xs = x.toDoubleArray(), sc = g.initializers().get("s").toDoubleArray(), b = g.initializers().get("b").toDoubleArray();
                double[] m0 = g.initializers().get("m").toDoubleArray(), v0 = g.initializers().get("v").toDoubleArray();
                double[] mean = new double[c], var = new double[c], y = new double[xs.length];
                for (int i = 0; i < xs.length; i++) mean[i / sp % c] += xs[i] / (n * sp);
                for (int i = 0; i < xs.length; i++) var[i / sp % c] += Math.pow(xs[i] - mean[i / sp % c], 2) / (n * sp);
                for (int i = 0; i < xs.length; i++) {
                    int ch = i / sp % c;
                    y[i] = (xs[i] - mean[ch]) / Math.sqrt(var[ch] + eps) * sc[ch] + b[ch];
                }
                Map<String, Tensor> o = s.run(Map.of("x", x));
                try {
                    close(o.get("y").toDoubleArray(), y, "y " + java.util.Arrays.toString(shape));
                    assertArrayEquals(x.shape(), o.get("y").shape());
                    double[] rm = new double[c], rv = new double[c];
                    for (int k = 0; k < c; k++) {
                        rm[k] = m0[k] * mom + mean[k] * (1 - (double) mom);
                        rv[k] = v0[k] * mom + var[k] * (1 - (double) mom); // population variance, as ONNX's reference
                    }
                    close(o.get("rm").toDoubleArray(), rm, "running mean");
                    close(o.get("rv").toDoubleArray(), rv, "running var");
                } finally {
                    o.values().forEach(Tensor::close);
                }
                try (Tensor gy = Tensor.zeros(DType.F64, shape); DifferentiableGraph.Gradients v = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
                    close(v.output().toDoubleArray(), y, "vjp forward");
                }
            }
        }
    }

    @Test
    void batchNormTrainingWithYOnly() {
        byte[] m = batchNorm(new int[] {4, 3, 2}, 1e-5f, 0.9f, "y");
        try (Tensor x = input(new int[] {4, 3, 2}, 5); InferenceSession s = InferenceSession.load(m, "bn y", SessionOptions.DEFAULT);
             Tensor y = s.run(x)) {
            double[] ys = y.toDoubleArray();
            List<Float> bias = floats("b", -0.5, 0.5, 3).getFloatDataList();
            for (int ch = 0; ch < 3; ch++) {
                double mean = 0;
                for (int i = 0; i < ys.length; i++) if (i / 2 % 3 == ch) mean += ys[i] / 8;
                assertEquals(bias.get(ch), mean, 1e-5, "channel " + ch + ": the output's batch mean is the bias");
            }
        }
    }

    private static void close(double[] got, double[] want, String what) {
        assertEquals(want.length, got.length, what + ": element count");
        for (int k = 0; k < got.length; k++) {
            assertTrue(Math.abs(got[k] - want[k]) <= 1e-5 + 1e-4 * Math.abs(want[k]), what + "[" + k + "] = " + got[k] + ", expected " + want[k]);
        }
    }
}
