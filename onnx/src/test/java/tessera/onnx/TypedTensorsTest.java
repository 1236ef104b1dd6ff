package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.lists;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;

/**
 * Tensors of element types other than float32 computed at run time (Cast, then arithmetic, comparisons, Where, Clip,
 * data movement), against values computed here with Java's own conversions and 64-bit arithmetic; and vjp refusing
 * them by name.
 */
class TypedTensorsTest {
    private static final int N = 6;

    private static OnnxProto.ValueInfoProto.Builder floatInput(String name) {
        return OnnxProto.ValueInfoProto.newBuilder().setName(name).setType(OnnxProto.TypeProto.newBuilder().setTensorType(
                OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(OnnxProto.TensorShapeProto.newBuilder()
                        .addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(N)))));
    }

    private static OnnxProto.NodeProto node(String op, List<String> in, String out, OnnxProto.AttributeProto... attrs) {
        var b = OnnxProto.NodeProto.newBuilder().setName(out + "_node").setOpType(op).addAllInput(in).addOutput(out);
        for (var a : attrs) b.addAttribute(a);
        return b.build();
    }

    private static OnnxProto.AttributeProto to(int type) {
        return OnnxProto.AttributeProto.newBuilder().setName("to").setType(OnnxProto.AttributeProto.AttributeType.INT).setI(type).build();
    }

    private static OnnxProto.TensorProto scalar(String name, int type, long v) {
        var t = OnnxProto.TensorProto.newBuilder().setName(name).setDataType(type);
        if (type == OnnxTensors.INT64) t.addInt64Data(v);
        else t.addInt32Data((int) v);
        return t.build();
    }

    private static byte[] model(List<OnnxProto.NodeProto> nodes, List<OnnxProto.TensorProto> inits, String... outputs) {
        var g = OnnxProto.GraphProto.newBuilder().setName("g").addInput(floatInput("x")).addAllNode(nodes).addAllInitializer(inits);
        for (String o : outputs) g.addOutput(OnnxProto.ValueInfoProto.newBuilder().setName(o));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(g).build().toByteArray();
    }

    private static Map<String, Tensor> run(byte[] model, float[] x) {
        try (InferenceSession s = InferenceSession.load(model, "typed.onnx", SessionOptions.DEFAULT); Tensor in = Tensor.of(x, N)) {
            return s.run(Map.of("x", in));
        }
    }

    private static final org.quicktheories.core.Gen<float[]> VALUES = lists().of(floats().between(-300f, 300f)).ofSize(N)
            .map(l -> {
                float[] f = new float[N];
                for (int i = 0; i < N; i++) f[i] = l.get(i);
                return f;
            });

    @Test
    void castsOfComputedTensorsRoundAsJavaDoes() {
        byte[] m = model(List.of(node("Cast", List.of("x"), "h", to(OnnxTensors.FLOAT16)), node("Cast", List.of("x"), "d", to(OnnxTensors.DOUBLE)),
                node("Cast", List.of("x"), "i8", to(OnnxTensors.INT8)), node("Cast", List.of("x"), "b", to(OnnxTensors.BOOL)),
                node("Cast", List.of("x"), "u16", to(OnnxTensors.UINT16)), node("Cast", List.of("h"), "back", to(OnnxTensors.FLOAT))),
                List.of(), "h", "d", "i8", "b", "u16", "back");
        qt().withExamples(200).forAll(VALUES).checkAssert(x -> {
            Map<String, Tensor> out = run(m, x);
            try {
                assertEquals(DType.F16, out.get("h").dtype());
                for (int i = 0; i < N; i++) {
                    short h = out.get("h").segment().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                    assertEquals(Float.floatToFloat16(x[i]), h, "float16 bits of " + x[i]);
                    assertEquals(Float.float16ToFloat(Float.floatToFloat16(x[i])), out.get("back").getDouble(i));
                    assertEquals((double) x[i], out.get("d").getDouble(i));
                    assertEquals((byte) (long) x[i], out.get("i8").getDouble(i), "int8 of " + x[i]);
                    assertEquals(x[i] != 0 ? 1 : 0, out.get("b").getDouble(i));
                    assertEquals((long) x[i] & 0xFFFF, out.get("u16").getDouble(i), "uint16 of " + x[i]);
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        });
    }

    @Test
    void integerArithmeticWrapsAndTruncatesLikeNumPy() {
        // i = int32(x); s = i * 1000003 + 7; q = s / -3; m = Max(q, i); c = Clip(i, -5, 40) ; w = Where(i > 7, i, -i); p = Pow(i, 2)
        byte[] m = model(List.of(node("Cast", List.of("x"), "i", to(OnnxTensors.INT32)),
                        node("Mul", List.of("i", "k"), "ik"), node("Add", List.of("ik", "seven"), "s"), node("Div", List.of("s", "minus3"), "q"),
                        node("Max", List.of("q", "i"), "m"), node("Clip", List.of("i", "lo", "hi"), "c"),
                        node("Greater", List.of("i", "seven"), "gt"), node("Neg", List.of("i"), "ni"), node("Where", List.of("gt", "i", "ni"), "w"),
                        node("Pow", List.of("i", "two"), "p"), node("Sub", List.of("i", "big"), "wrap"), node("Expand", List.of("i", "shape"), "e")),
                List.of(scalar("k", OnnxTensors.INT32, 1000003), scalar("seven", OnnxTensors.INT32, 7), scalar("minus3", OnnxTensors.INT32, -3),
                        scalar("lo", OnnxTensors.INT32, -5), scalar("hi", OnnxTensors.INT32, 40), scalar("two", OnnxTensors.INT64, 2),
                        scalar("big", OnnxTensors.INT32, Integer.MIN_VALUE),
                        OnnxProto.TensorProto.newBuilder().setName("shape").setDataType(OnnxTensors.INT64).addDims(2).addInt64Data(2).addInt64Data(N).build()),
                "s", "q", "m", "c", "w", "p", "wrap", "e");
        qt().withExamples(200).forAll(VALUES).checkAssert(x -> {
            Map<String, Tensor> out = run(m, x);
            try {
                for (int i = 0; i < N; i++) {
                    int v = (int) x[i];
                    int s = v * 1000003 + 7, q = s / -3;
                    assertEquals(DType.I32, out.get("s").dtype());
                    assertEquals(s, out.get("s").getDouble(i));
                    assertEquals(q, out.get("q").getDouble(i));
                    assertEquals(Math.max(q, v), out.get("m").getDouble(i));
                    assertEquals(Math.min(Math.max(v, -5), 40), out.get("c").getDouble(i));
                    assertEquals(v > 7 ? v : -v, out.get("w").getDouble(i));
                    assertEquals(v * v, out.get("p").getDouble(i));
                    assertEquals(v - Integer.MIN_VALUE, out.get("wrap").getDouble(i), "int32 wraps");
                    assertEquals(DType.I32, out.get("e").dtype());
                    assertEquals(v, out.get("e").getDouble(1, i));
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        });
    }

    @Test
    void mixedTypesAndFloatOnlyOpsAreRefusedByName() {
        byte[] mixed = model(List.of(node("Cast", List.of("x"), "i", to(OnnxTensors.INT32)), node("Add", List.of("i", "x"), "y")), List.of(), "y");
        var e = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(mixed, "mixed.onnx", SessionOptions.DEFAULT).close());
        assertTrue(e.getMessage().contains("y_node") && e.getMessage().contains("I32") && e.getMessage().contains("F32"), e.getMessage());
        byte[] sqrt = model(List.of(node("Cast", List.of("x"), "i", to(OnnxTensors.INT64)), node("Sqrt", List.of("i"), "y")), List.of(), "y");
        var f = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(sqrt, "sqrt.onnx", SessionOptions.DEFAULT).close());
        assertTrue(f.getMessage().contains("y_node") && f.getMessage().contains("I64") && f.getMessage().contains("floating-point"), f.getMessage());
        byte[] string = model(List.of(node("Cast", List.of("x"), "y", to(8))), List.of(), "y");
        var g = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(string, "string.onnx", SessionOptions.DEFAULT).close());
        assertTrue(g.getMessage().contains("'to'") && g.getMessage().contains("string"), g.getMessage());
    }

    @Test
    void vjpRefusesFloat16ByName() throws Exception {
        byte[] m = model(List.of(node("Cast", List.of("x"), "h", to(OnnxTensors.FLOAT16)), node("Cast", List.of("h"), "y", to(OnnxTensors.FLOAT))),
                List.of(), "y");
        try (OnnxGraph g = OnnxLoader.parse(m, "half.onnx", OnnxLimits.DEFAULT); Tensor x = Tensor.of(new float[N], N); Tensor gy = Tensor.of(new float[N], N)) {
            var e = assertThrows(OnnxFormatException.class, () -> DifferentiableGraph.vjp(g, x, gy, DType.F32).close());
            assertTrue(e.getMessage().contains("h_node") && e.getMessage().contains("F16") && e.getMessage().contains("not differentiable"), e.getMessage());
        }
    }

    @Test
    void floatToBfloat16RoundsToNearestEven() throws Exception {
        // the ONNX 1.12 backend test's input; its expected data truncates (reference-errata.txt), these are the rounded bits
        Path dir = Path.of(getClass().getResource("/onnx-backend/node/test_cast_FLOAT_to_BFLOAT16").toURI());
        var in = OnnxProto.TensorProto.parseFrom(Files.readAllBytes(dir.resolve("test_data_set_0/input_0.pb")));
        byte[] m = model(List.of(node("Cast", List.of("x"), "y", to(OnnxTensors.BFLOAT16))), List.of(), "y");
        float[] x = new float[N];
        short[] want = {0x3ef5, 0x3ef6, 0x3f00, 0x3f52, 0x3ef1, 0x3f51, 0x3e58, 0x3f39, 0x7fc0, 0x7f80, 0x7f80, (short) 0xff80};
        var raw = in.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int half = 0; half < 2; half++) {
            for (int i = 0; i < N; i++) x[i] = raw.get(half * N + i);
            Map<String, Tensor> out = run(m, x);
            try {
                for (int i = 0; i < N; i++) {
                    assertEquals(want[half * N + i], out.get("y").segment().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i), "bfloat16 of " + x[i]);
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
