package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
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
 * Walks the operator table {@link OnnxOps}: every operator has a small example model (opset 13, one dynamic input
 * x; the op, sometimes with a producer or a consumer so the output is a float that depends on x) that runs through
 * {@code InferenceSession} (float32 kernels) and {@code DifferentiableGraph.vjp} (float64), whose outputs must agree
 * to max |a − b| / (1 + |b|) ≤ 1e-4. For examples made only of folding operators, the same model with x as an
 * initializer (folded at load by constant evaluation) must give the same output too.
 */
class OpTableWalkTest {
    static final double TOL = 1e-4;
    static final int[] X = {2, 3, 4, 4};

    /** An example: input shape, whether x must be positive, nodes (the first reads "x", the last writes "y"), initializers. */
    record Example(int[] shape, boolean positive, List<NodeProto> nodes, Map<String, TensorProto> inits) {}

    private static final Map<String, Example> EXAMPLES = new LinkedHashMap<>();

    // ------------------------------------------------------------------ builders

    static AttributeProto ints(String name, long... v) {
        var b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    static AttributeProto t(String name, TensorProto v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(v).build();
    }

    static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        var b = NodeProto.newBuilder().setName(op.toLowerCase() + "_" + out).setOpType(op).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) b.addAttribute(a);
        return b.build();
    }

    /** A deterministic float tensor of {@code shape} with values in [lo, hi). */
    static TensorProto floats(String name, double lo, double hi, int... shape) {
        var b = TensorProto.newBuilder().setName(name).setDataType(1);
        long n = 1;
        for (int d : shape) {
            b.addDims(d);
            n *= d;
        }
        Random r = new Random(name.hashCode());
        for (long k = 0; k < n; k++) b.addFloatData((float) (lo + (hi - lo) * r.nextDouble()));
        return b.build();
    }

    static TensorProto longs(String name, long[] v, int... shape) {
        var b = TensorProto.newBuilder().setName(name).setDataType(7);
        for (int d : shape) b.addDims(d);
        for (long x : v) b.addInt64Data(x);
        return b.build();
    }

    private static TensorProto bools(String name, int... shape) {
        var b = TensorProto.newBuilder().setName(name).setDataType(9);
        long n = 1;
        for (int d : shape) {
            b.addDims(d);
            n *= d;
        }
        for (long k = 0; k < n; k++) b.addInt32Data((int) (k * 7 % 3 == 0 ? 1 : 0));
        return b.build();
    }

    private static void example(String op, int[] shape, boolean positive, List<NodeProto> nodes, TensorProto... inits) {
        Map<String, TensorProto> m = new LinkedHashMap<>();
        for (TensorProto p : inits) m.put(p.getName(), p);
        EXAMPLES.put(op, new Example(shape, positive, nodes, m));
    }

    /** One node reading x (and the given initializers by name) and writing y. */
    private static void single(String op, List<String> in, TensorProto[] inits, AttributeProto... attrs) {
        example(op, X, false, List.of(node(op, in, "y", attrs)), inits);
    }

    private static void unary(String op, boolean positive, AttributeProto... attrs) {
        example(op, X, positive, List.of(node(op, List.of("x"), "y", attrs)));
    }

    /** {@code op} writes t; a Cast to float (for booleans/integers) and an Add of x make y. */
    private static void thenAddX(String op, boolean cast, List<NodeProto> pre, List<String> in, TensorProto[] inits, AttributeProto... attrs) {
        List<NodeProto> nodes = new ArrayList<>(pre);
        nodes.add(node(op, in, "t", attrs));
        String last = "t";
        if (cast) {
            nodes.add(node("Cast", List.of("t"), "tf", i("to", 1)));
            last = "tf";
        }
        nodes.add(node("Add", List.of("x", last), "y"));
        example(op, X, false, nodes, inits);
    }

    private static TensorProto[] none() { return new TensorProto[0]; }

    static {
        single("Conv", List.of("x", "w", "b"), new TensorProto[] {floats("w", -0.5, 0.5, 5, 3, 3, 3), floats("b", -0.1, 0.1, 5)},
                ints("pads", 1, 0, 1, 2), ints("strides", 1, 2));
        // output_shape with odd total padding (2·3 + 3 − 8 = 1): both interpreters must split it alike
        single("ConvTranspose", List.of("x", "w", "b"), new TensorProto[] {floats("w", -0.5, 0.5, 3, 2, 3, 3), floats("b", -0.1, 0.1, 2)},
                ints("strides", 2, 2), ints("output_shape", 8, 8));
        single("MaxPool", List.of("x"), none(), ints("kernel_shape", 2, 2), ints("strides", 1, 2));
        single("AveragePool", List.of("x"), none(), ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1));
        single("LpPool", List.of("x"), none(), ints("kernel_shape", 2, 2), ints("strides", 2, 2), i("p", 2));
        unary("GlobalAveragePool", false);
        unary("GlobalMaxPool", false);
        example("MaxUnpool", X, false, List.of(
                NodeProto.newBuilder().setName("pool").setOpType("MaxPool").addInput("x").addOutput("p").addOutput("idx")
                        .addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)).build(),
                node("MaxUnpool", List.of("p", "idx"), "y", ints("kernel_shape", 2, 2), ints("strides", 2, 2))));
        single("BatchNormalization", List.of("x", "s", "bb", "m", "v"), new TensorProto[] {floats("s", 0.5, 1.5, 3), floats("bb", -0.2, 0.2, 3),
                floats("m", -0.2, 0.2, 3), floats("v", 0.5, 1.5, 3)}, f("epsilon", 1e-3f));
        unary("LRN", false, i("size", 3));
        unary("Dropout", false);
        for (String op : new String[] {"Relu", "Sigmoid", "HardSwish", "Tanh", "Softplus", "Mish", "Identity"}) unary(op, false);
        unary("LeakyRelu", false, f("alpha", 0.1f));
        unary("Elu", false, f("alpha", 0.7f));
        unary("Selu", false);
        unary("HardSigmoid", false, f("alpha", 0.3f));
        single("Clip", List.of("x", "lo", "hi"), new TensorProto[] {floats("lo", -0.5, -0.5, new int[0]), floats("hi", 0.4, 0.4, new int[0])});
        single("PRelu", List.of("x", "slope"), new TensorProto[] {floats("slope", 0.05, 0.3, 3, 1, 1)});
        unary("Softmax", false, i("axis", 1));
        unary("LogSoftmax", false, i("axis", -1));
        example("Gemm", new int[] {2, 12}, false, List.of(node("Gemm", List.of("x", "gb", "gc"), "y", f("alpha", 0.5f), i("transB", 1))),
                floats("gb", -0.5, 0.5, 5, 12), floats("gc", -0.5, 0.5, 5));
        single("MatMul", List.of("x", "mb"), new TensorProto[] {floats("mb", -0.5, 0.5, 4, 6)});
        for (String op : new String[] {"Add", "Sub", "Mul", "Min", "Max"}) single(op, List.of("x", "c"), new TensorProto[] {floats("c", -0.5, 0.5, 3, 1, 1)});
        single("Div", List.of("x", "c"), new TensorProto[] {floats("c", 0.5, 1.5, 3, 1, 1)});
        single("Sum", List.of("x", "c", "c2"), new TensorProto[] {floats("c", -0.5, 0.5, 3, 1, 1), floats("c2", -0.5, 0.5, 4)});
        example("Pow", X, true, List.of(node("Pow", List.of("x", "c"), "y")), floats("c", 0.5, 2.5, 3, 1, 1));
        for (String op : new String[] {"Equal", "Greater", "Less"}) {
            thenAddX(op, true, List.of(node("Sign", List.of("x"), "s")), List.of("s", "one"), new TensorProto[] {floats("one", 1, 1, new int[0])});
        }
        for (String op : new String[] {"Neg", "Abs", "Sign", "Exp", "Erf"}) unary(op, false);
        for (String op : new String[] {"Sqrt", "Log", "Reciprocal"}) unary(op, true);
        example("Where", X, false, List.of(node("Greater", List.of("x", "z"), "cond"), node("Where", List.of("cond", "x", "c"), "w"),
                node("Where", List.of("mask", "w", "x"), "y")), floats("z", 0.1, 0.1, new int[0]), floats("c", -0.5, 0.5, 3, 1, 1), bools("mask", 4, 4));
        single("Concat", List.of("x", "cc"), new TensorProto[] {floats("cc", -1, 1, 2, 2, 4, 4)}, i("axis", 1));
        unary("Flatten", false, i("axis", 2));
        single("Reshape", List.of("x", "shape"), new TensorProto[] {longs("shape", new long[] {2, -1}, 2)});
        example("Squeeze", X, false, List.of(node("Unsqueeze", List.of("x", "ax"), "u"), node("Squeeze", List.of("u", "ax"), "y")),
                longs("ax", new long[] {2}, 1));
        example("Unsqueeze", X, false, List.of(node("Unsqueeze", List.of("x", "ax"), "y")), longs("ax", new long[] {0, -1}, 2));
        unary("Transpose", false, ints("perm", 0, 2, 3, 1));
        thenAddX("Shape", true, List.of(), List.of("x"), none());
        single("Gather", List.of("x", "gi"), new TensorProto[] {longs("gi", new long[] {2, 0}, 2)}, i("axis", 1));
        single("Slice", List.of("x", "st", "en", "sa", "ss"), new TensorProto[] {longs("st", new long[] {1, -3}, 2), longs("en", new long[] {4, 100}, 2),
                longs("sa", new long[] {2, 3}, 2), longs("ss", new long[] {2, 1}, 2)});
        thenAddX("Constant", false, List.of(), List.of(), none(), t("value", floats("cv", -1, 1, 4)));
        thenAddX("ConstantOfShape", false, List.of(), List.of("cs"), new TensorProto[] {longs("cs", new long[] {4}, 1)},
                t("value", floats("fill", 0.5, 0.5, 1)));
        single("Pad", List.of("x", "pads", "pv"), new TensorProto[] {longs("pads", new long[] {0, 0, 1, 2, 0, 0, 2, 1}, 8), floats("pv", 0.3, 0.3, new int[0])});
        unary("ReduceMean", false, ints("axes", 2, 3));
        single("ReduceSum", List.of("x", "rax"), new TensorProto[] {longs("rax", new long[] {1}, 1)}, i("keepdims", 0));
        unary("ReduceMax", false, ints("axes", 1, 3), i("keepdims", 1));
        unary("Cast", false, i("to", 1));
        single("Resize", List.of("x", "", "rs"), new TensorProto[] {floatList("rs", 1, 1, 1.5f, 2)}, s("mode", "linear"),
                s("coordinate_transformation_mode", "half_pixel"));
        for (String op : new String[] {"Ceil", "Floor", "Softsign"}) unary(op, false);
        single("Mean", List.of("x", "c", "c2"), new TensorProto[] {floats("c", -0.5, 0.5, 3, 1, 1), floats("c2", -0.5, 0.5, 4)});
        unary("ReduceMin", false, ints("axes", 1, 3), i("keepdims", 0));
        unary("ReduceSumSquare", false, ints("axes", 2));
        unary("ReduceL2", false, ints("axes", -1, 1));
        unary("GlobalLpPool", false, i("p", 3));
        single("LayerNormalization", List.of("x", "ls", "lb"), new TensorProto[] {floats("ls", 0.5, 1.5, 4, 4), floats("lb", -0.2, 0.2, 4)},
                i("axis", -2), f("epsilon", 1e-3f));
        single("InstanceNormalization", List.of("x", "is", "ib"), new TensorProto[] {floats("is", 0.5, 1.5, 3), floats("ib", -0.2, 0.2, 3)},
                f("epsilon", 1e-3f));
        example("DepthToSpace", new int[] {2, 8, 3, 3}, false, List.of(node("DepthToSpace", List.of("x"), "y", i("blocksize", 2), s("mode", "CRD"))));
        single("SpaceToDepth", List.of("x"), none(), i("blocksize", 2));
        example("Split", X, false, List.of(
                NodeProto.newBuilder().setName("split").setOpType("Split").addInput("x").addInput("sp").addOutput("p0").addOutput("p1")
                        .addAttribute(i("axis", 1)).build(),
                node("Concat", List.of("p1", "p0"), "y", i("axis", 1))), longs("sp", new long[] {1, 2}, 2));
        single("Tile", List.of("x", "reps"), new TensorProto[] {longs("reps", new long[] {1, 2, 1, 3}, 4)});
        single("Expand", List.of("x", "es"), new TensorProto[] {longs("es", new long[] {2, 1, 1, 1, 1}, 5)});
        single("Upsample", List.of("x", "us"), new TensorProto[] {floatList("us", 1, 1, 2, 3)}, s("mode", "nearest"));
    }

    static AttributeProto s(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING).setS(com.google.protobuf.ByteString.copyFromUtf8(v)).build();
    }

    static TensorProto floatList(String name, float... v) {
        var b = TensorProto.newBuilder().setName(name).setDataType(1).addDims(v.length);
        for (float x : v) b.addFloatData(x);
        return b.build();
    }

    // ------------------------------------------------------------------ model and runs

    private static OnnxProto.ValueInfoProto info(String name, int[] shape) {
        var s = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : shape) s.addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return OnnxProto.ValueInfoProto.newBuilder().setName(name).setType(OnnxProto.TypeProto.newBuilder()
                .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
    }

    /** The example as a model; with {@code xConst}, x is an initializer holding {@code x} and the graph input is unused. */
    static byte[] model(Example e, Tensor x, boolean xConst) {
        var g = OnnxProto.GraphProto.newBuilder().setName("walk").addAllNode(e.nodes()).addAllInitializer(e.inits().values())
                .addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        if (xConst) {
            var b = TensorProto.newBuilder().setName("x").setDataType(1);
            for (int d : e.shape()) b.addDims(d);
            for (float v : x.toFloatArray()) b.addFloatData(v);
            g.addInitializer(b).addInput(info("unused", new int[] {1}));
        } else {
            g.addInput(info("x", e.shape()));
        }
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(g).build().toByteArray();
    }

    static Tensor input(Example e) {
        Random r = new Random(7);
        Tensor x = Tensor.zeros(DType.F32, e.shape());
        Tensor flat = x.reshape((int) x.numel());
        for (int k = 0; k < x.numel(); k++) flat.set(e.positive() ? 0.2 + 1.5 * r.nextDouble() : -1.5 + 3 * r.nextDouble(), k);
        return x;
    }

    @Test
    void everyOperatorInTheTableHasAnExample() {
        assertEquals(new TreeSet<>(OnnxOps.supported()), new TreeSet<>(EXAMPLES.keySet()), "operators without a walk example (or examples of unknown ops)");
    }

    @Test
    void everyOperatorRunsAlikeInInferenceAndInTheDifferentiableGraph() {
        List<String> failures = new ArrayList<>();
        for (OnnxOps.Op op : OnnxOps.all()) {
            Example e = EXAMPLES.get(op.type());
            if (e == null) continue; // reported by everyOperatorInTheTableHasAnExample
            try (Tensor x = input(e)) {
                Tensor yInfer;
                try (InferenceSession s = InferenceSession.load(model(e, x, false), op.type(), SessionOptions.DEFAULT)) {
                    assertTrue(op.runs());
                    yInfer = s.run(x);
                }
                try (Tensor yi = yInfer) {
                    if (op.differentiates()) {
                        try (OnnxGraph g = OnnxLoader.parse(model(e, x, false), op.type(), OnnxLimits.DEFAULT);
                             Tensor gy = Tensor.zeros(DType.F64, yi.shape());
                             DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
                            assertArrayEquals(yi.shape(), r.output().shape(), op.type() + ": output shapes");
                            double err = Fixtures.maxRelError(r.output(), yi);
                            if (!(err <= TOL)) failures.add(op.type() + ": vjp output differs from inference by " + err);
                        }
                    }
                    boolean allFold = e.nodes().stream().allMatch(n -> OnnxOps.get(n.getOpType()) != null && OnnxOps.get(n.getOpType()).folds());
                    if (allFold) {
                        try (InferenceSession s = InferenceSession.load(model(e, x, true), op.type() + " folded", SessionOptions.DEFAULT);
                             Tensor u = Tensor.zeros(DType.F32, 1);
                             Tensor yf = s.run(u)) {
                            double err = Fixtures.maxRelError(yf, yi);
                            if (!(err <= TOL)) failures.add(op.type() + ": folded output differs from inference by " + err);
                        }
                    }
                }
            } catch (RuntimeException ex) {
                failures.add(op.type() + ": " + ex);
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
