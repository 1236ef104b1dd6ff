package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;
import tessera.onnx.proto.OnnxProto.AttributeProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/**
 * Old-opset attribute forms normalize to the same computation as the newest input forms: an opset-9 chain
 * (Unsqueeze/Squeeze axes, Slice starts/ends/axes, Clip min/max, Pad pads/value, ReduceSum axes as attributes) gives
 * the output of the opset-13 chain with those values as inputs, in inference and in vjp; Softmax before opset 13
 * normalizes over everything after its axis. Split's sizes (attribute before 13, input from 13, equal parts with
 * {@code num_outputs} in 18) give one computation.
 */
class OpsetNormalizerTest {
    private static AttributeProto ints(String name, long... v) {
        var b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    private static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        var b = NodeProto.newBuilder().setName(out).setOpType(op).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) b.addAttribute(a);
        return b.build();
    }

    private static TensorProto longs(String name, long... v) {
        var b = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
        for (long x : v) b.addInt64Data(x);
        return b.build();
    }

    private static TensorProto scalar(String name, float v) { return TensorProto.newBuilder().setName(name).setDataType(1).addFloatData(v).build(); }

    private static byte[] model(long opset, List<NodeProto> nodes, TensorProto... inits) {
        var s = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : new int[] {2, 3, 4, 4}) s.addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        var x = OnnxProto.ValueInfoProto.newBuilder().setName("x").setType(OnnxProto.TypeProto.newBuilder()
                .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)));
        var g = OnnxProto.GraphProto.newBuilder().setName("n").addInput(x).addAllNode(nodes).addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        for (TensorProto t : inits) g.addInitializer(t);
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(opset))
                .setGraph(g).build().toByteArray();
    }

    private static Tensor input() {
        Tensor x = Tensor.zeros(DType.F32, 2, 3, 4, 4);
        Tensor flat = x.reshape(96);
        for (int k = 0; k < 96; k++) flat.set(Math.sin(k * 0.7) * 1.3, k);
        return x;
    }

    private static Tensor infer(byte[] m, Tensor x) {
        try (InferenceSession s = InferenceSession.load(m, "m", SessionOptions.DEFAULT)) {
            return s.run(x);
        }
    }

    private static Tensor vjpOutput(byte[] m, Tensor x) {
        try (OnnxGraph g = OnnxLoader.parse(m, "m", OnnxLimits.DEFAULT); Tensor gy = Tensor.zeros(DType.F64, 2, 3, 1, 6);
             DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
            return r.output().to(DType.F32);
        }
    }

    @Test
    void attributeFormsComputeWhatInputFormsCompute() {
        byte[] old = model(9, List.of(
                node("Unsqueeze", List.of("x"), "u", ints("axes", 0)),
                node("Squeeze", List.of("u"), "q", ints("axes", 0)),
                node("Slice", List.of("q"), "s", ints("starts", 1, 0), ints("ends", 3, 100), ints("axes", 2, 3)),
                node("Clip", List.of("s"), "c", f("min", -0.5f), f("max", 0.75f)),
                node("Pad", List.of("c"), "p", ints("pads", 0, 0, 0, 1, 0, 0, 0, 1), f("value", 0.25f)),
                node("ReduceSum", List.of("p"), "y", ints("axes", 2), i("keepdims", 1))));
        byte[] current = model(13, List.of(
                node("Unsqueeze", List.of("x", "ax0"), "u"),
                node("Squeeze", List.of("u", "ax0"), "q"),
                node("Slice", List.of("q", "st", "en", "sax"), "s"),
                node("Clip", List.of("s", "lo", "hi"), "c"),
                node("Pad", List.of("c", "pads", "pv"), "p"),
                node("ReduceSum", List.of("p", "rax"), "y", i("keepdims", 1))),
                longs("ax0", 0), longs("st", 1, 0), longs("en", 3, 100), longs("sax", 2, 3), scalar("lo", -0.5f), scalar("hi", 0.75f),
                longs("pads", 0, 0, 0, 1, 0, 0, 0, 1), scalar("pv", 0.25f), longs("rax", 2));
        try (Tensor x = input(); Tensor a = infer(old, x); Tensor b = infer(current, x); Tensor va = vjpOutput(old, x)) {
            assertArrayEquals(new int[] {2, 3, 1, 6}, a.shape());
            assertArrayEquals(b.toFloatArray(), a.toFloatArray());
            assertTrue(Fixtures.maxRelError(va, b) <= 1e-6, "vjp of the opset-9 form differs");
            float edge = b.toFloatArray()[5]; // the padded column: two rows of value 0.25
            assertEquals(0.5f, edge, 1e-6f);
        }
    }

    @Test
    void softmaxBeforeOpset13NormalizesEverythingAfterTheAxis() {
        byte[] m = model(11, List.of(node("Softmax", List.of("x"), "y", i("axis", 1))));
        try (Tensor x = input(); Tensor y = infer(m, x)) {
            assertArrayEquals(new int[] {2, 3, 4, 4}, y.shape());
            float[] v = y.toFloatArray();
            for (int n = 0; n < 2; n++) {
                double s = 0;
                for (int k = 0; k < 48; k++) s += v[n * 48 + k];
                assertEquals(1.0, s, 1e-5, "sample " + n + " sums over C·H·W");
            }
            double channel0 = 0;
            for (int k = 0; k < 16; k++) channel0 += v[k];
            assertTrue(channel0 < 0.9, "a single channel does not sum to 1 (that would be opset-13 semantics): " + channel0);
        }
    }

    private static NodeProto split(List<String> in, AttributeProto... attrs) {
        var b = NodeProto.newBuilder().setName("split").setOpType("Split").addAllInput(in).addOutput("a").addOutput("b");
        for (AttributeProto a : attrs) b.addAttribute(a);
        return b.build();
    }

    @Test
    void splitFormsOfEveryOpsetComputeTheSameParts() {
        NodeProto cat = node("Concat", List.of("b", "a"), "y", i("axis", 3));
        byte[] v11 = model(11, List.of(split(List.of("x"), i("axis", 3), ints("split", 1, 3)), cat));
        byte[] v13 = model(13, List.of(split(List.of("x", "sp"), i("axis", -1)), cat), longs("sp", 1, 3));
        byte[] v1 = model(1, List.of(split(List.of("x", "sp"), i("axis", 3)), cat), longs("sp", 1, 3));
        byte[] eq11 = model(11, List.of(split(List.of("x"), i("axis", 3)), cat));
        byte[] eq18 = model(18, List.of(split(List.of("x"), i("axis", 3), i("num_outputs", 2)), cat));
        try (Tensor x = input(); Tensor a = infer(v11, x); Tensor b = infer(v13, x); Tensor c = infer(v1, x); Tensor e = infer(eq11, x);
             Tensor e18 = infer(eq18, x)) {
            float[] xv = x.toFloatArray(), av = a.toFloatArray();
            assertArrayEquals(new int[] {2, 3, 4, 4}, a.shape());
            // row r of y = x[r, 1:4] followed by x[r, 0:1]
            for (int r = 0; r < 24; r++) {
                for (int k = 0; k < 4; k++) assertEquals(xv[r * 4 + (k + 1) % 4], av[r * 4 + k], 0f, "row " + r + " column " + k);
            }
            assertArrayEquals(av, b.toFloatArray());
            assertArrayEquals(av, c.toFloatArray());
            float[] ev = e.toFloatArray();
            for (int r = 0; r < 24; r++) {
                for (int k = 0; k < 4; k++) assertEquals(xv[r * 4 + (k + 2) % 4], ev[r * 4 + k], 0f, "equal halves: row " + r + " column " + k);
            }
            assertArrayEquals(ev, e18.toFloatArray());
        }
    }

    @Test
    void splitErrorsNameTheNodeAndTheInput() {
        byte[] wrongCount = model(13, List.of(split(List.of("x", "sp"), i("axis", 3)), node("Concat", List.of("b", "a"), "y", i("axis", 3))),
                longs("sp", 1, 1, 2));
        byte[] computed = model(13, List.of(node("Shape", List.of("x"), "s"), split(List.of("x", "s"), i("axis", 3)),
                node("Concat", List.of("b", "a"), "y", i("axis", 3))));
        byte[] numOutputs = model(18, List.of(split(List.of("x"), i("axis", 3), i("num_outputs", 3)), node("Concat", List.of("b", "a"), "y", i("axis", 3))));
        OnnxFormatException e1 = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class, () -> infer(wrongCount, input()));
        assertTrue(e1.getMessage().contains("'split' (Split)") && e1.getMessage().contains("[1, 1, 2]") && e1.getMessage().contains("2 outputs"), e1.getMessage());
        OnnxFormatException e2 = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class, () -> infer(computed, input()));
        assertTrue(e2.getMessage().contains("'split' (Split)") && e2.getMessage().contains("must be an initializer or a Constant"), e2.getMessage());
        OnnxFormatException e3 = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class, () -> infer(numOutputs, input()));
        assertTrue(e3.getMessage().contains("'num_outputs' = 3") && e3.getMessage().contains("2 outputs"), e3.getMessage());
        // sizes 1 + 2 of an axis of 4, and two equal parts of an axis of 3 (opset 13), are invalid models
        byte[] shortSizes = model(13, List.of(split(List.of("x", "sp"), i("axis", 3)), node("Concat", List.of("b", "a"), "y", i("axis", 3))),
                longs("sp", 1, 2));
        OnnxFormatException e4 = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class, () -> infer(shortSizes, input()));
        assertTrue(e4.getMessage().contains("'split#sizes_must_sum_to_the_axis'") && e4.getMessage().contains("[4]") && e4.getMessage().contains("[3]"),
                e4.getMessage());
        RuntimeException v4 = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> {
            try (OnnxGraph g = OnnxLoader.parse(shortSizes, "m", OnnxLimits.DEFAULT); Tensor x = input(); Tensor gy = Tensor.zeros(DType.F64, 2, 3, 4, 3)) {
                DifferentiableGraph.vjp(g, x, gy, DType.F64).close();
            }
        });
        assertTrue(v4.getMessage().contains("sizes_must_sum_to_the_axis"), "vjp refuses too: " + v4.getMessage());
        byte[] uneven = model(13, List.of(node("Slice", List.of("x", "s0", "e3", "a3"), "x3"), split(List.of("x3"), i("axis", 3)),
                node("Concat", List.of("b", "a"), "y", i("axis", 3))), longs("s0", 0), longs("e3", 3), longs("a3", 3));
        OnnxFormatException e5 = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class, () -> infer(uneven, input()));
        assertTrue(e5.getMessage().contains("'split#outputs_must_divide_the_axis'") && e5.getMessage().contains("[3]"), e5.getMessage());
        try (Tensor x = input()) {
            // with num_outputs (opset 18) the same uneven split is valid: parts of 2 and 1
            byte[] uneven18 = model(18, List.of(node("Slice", List.of("x", "s0", "e3", "a3"), "x3"), split(List.of("x3"), i("axis", 3), i("num_outputs", 2)),
                    node("Concat", List.of("b", "a"), "y", i("axis", 3))), longs("s0", 0), longs("e3", 3), longs("a3", 3));
            try (Tensor y = infer(uneven18, x)) {
                assertArrayEquals(new int[] {2, 3, 4, 3}, y.shape());
                float[] xv = x.toFloatArray(), yv = y.toFloatArray();
                for (int r = 0; r < 24; r++) assertEquals(xv[r * 4 + 2], yv[r * 3], 0f, "row " + r + ": the 1-wide part first");
            }
        }
    }
}
