package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.i;
import static tessera.onnx.OpTableWalkTest.ints;
import static tessera.onnx.OpTableWalkTest.node;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.kernels.pool.PoolType;
import tessera.kernels.volume.Conv3d;
import tessera.kernels.volume.Conv3dSpec;
import tessera.kernels.volume.Pool3d;
import tessera.kernels.volume.Pool3dSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/**
 * 3-D Conv and pooling through {@link InferenceSession} beyond what the backend tests cover: a Conv with the
 * optimizer's fused activation and residual, MaxPool's indices output (flat over [N, C, D, H, W]), and the errors —
 * window attributes whose axis count disagrees with each other or with the input, column-major 3-D indices, windows
 * wholly in the padding, and the indices of a 3-D MaxPool in {@code vjp} (its gradients are checked by
 * {@code GraphFiniteDifferenceTest}).
 */
class Volume3dSessionTest {
    private static final int[] X = {2, 3, 4, 5, 6};

    private static byte[] model(int[] xShape, List<NodeProto> nodes, List<TensorProto> inits, String... outputs) {
        var s = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : xShape) s.addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        var g = OnnxProto.GraphProto.newBuilder().setName("vol").addAllNode(nodes).addAllInitializer(inits)
                .addInput(OnnxProto.ValueInfoProto.newBuilder().setName("x").setType(OnnxProto.TypeProto.newBuilder()
                        .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))));
        for (String o : outputs) g.addOutput(OnnxProto.ValueInfoProto.newBuilder().setName(o));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(g).build().toByteArray();
    }

    private static Tensor input(int[] shape) {
        Tensor x = Tensor.zeros(DType.F32, shape);
        java.util.Random r = new java.util.Random(11);
        for (long k = 0; k < x.numel(); k++) x.writeAt(x.offset() + k, r.nextDouble() * 2 - 1);
        return x;
    }

    private static Tensor tensor(TensorProto t) {
        int[] shape = t.getDimsList().stream().mapToInt(Long::intValue).toArray();
        float[] v = new float[t.getFloatDataCount()];
        for (int k = 0; k < v.length; k++) v[k] = t.getFloatData(k);
        return Tensor.of(v, shape).to(DType.F64);
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int k = 0; k < expected.length; k++) {
            if (Math.abs(expected[k] - actual[k]) > 1e-5 * (1 + Math.abs(expected[k]))) {
                throw new AssertionError(what + " [" + k + "]: expected " + expected[k] + " but got " + actual[k]);
            }
        }
    }

    /** relu(conv(x) + x) (fused residual and activation) and relu(conv(x)) strided (fused activation) equal the reference. */
    @Test
    void convWithFusedActivationAndResidualEqualsTheReference() {
        TensorProto w = floats("w", -0.3, 0.3, 3, 3, 3, 3, 3), b = floats("b", -0.5, 0.5, 3);
        var same = List.of(ints("kernel_shape", 3, 3, 3), ints("pads", 1, 1, 1, 1, 1, 1));
        List<NodeProto> residual = List.of(node("Conv", List.of("x", "w", "b"), "c", same.toArray(OnnxProto.AttributeProto[]::new)),
                node("Add", List.of("c", "x"), "s"), node("Relu", List.of("s"), "y"));
        List<NodeProto> strided = List.of(node("Conv", List.of("x", "w", "b"), "c", ints("strides", 2, 1, 2), ints("dilations", 1, 2, 1),
                ints("pads", 0, 2, 1, 1, 2, 0)), node("Relu", List.of("c"), "y"));
        Conv3dSpec sameSpec = new Conv3dSpec(2, 3, 3, 1, new int[] {4, 5, 6}, new int[] {3, 3, 3}, new int[] {1, 1, 1}, new int[] {1, 1, 1, 1, 1, 1},
                new int[] {1, 1, 1});
        Conv3dSpec stridedSpec = new Conv3dSpec(2, 3, 3, 1, new int[] {4, 5, 6}, new int[] {3, 3, 3}, new int[] {2, 1, 2}, new int[] {0, 2, 1, 1, 2, 0},
                new int[] {1, 2, 1});
        for (boolean withResidual : new boolean[] {true, false}) {
            Conv3dSpec spec = withResidual ? sameSpec : stridedSpec;
            int[] out = spec.out();
            try (Tensor x = input(X); Tensor x64 = x.to(DType.F64); Tensor w64 = tensor(w); Tensor b64 = tensor(b);
                 Tensor ref = Tensor.zeros(DType.F64, 2, 3, out[0], out[1], out[2]);
                 InferenceSession s = InferenceSession.load(model(X, withResidual ? residual : strided, List.of(w, b), "y"), "conv", SessionOptions.DEFAULT);
                 Tensor y = s.run(x)) {
                Conv3d.forward(spec, x64, w64, b64, ref);
                double[] e = ref.toDoubleArray(), xv = x64.toDoubleArray();
                for (int k = 0; k < e.length; k++) e[k] = Math.max(0, e[k] + (withResidual ? xv[k] : 0));
                assertEquals(List.of(2, 3, out[0], out[1], out[2]), java.util.Arrays.stream(y.shape()).boxed().toList());
                assertClose(e, y.toDoubleArray(), withResidual ? "relu(conv(x) + x)" : "relu(conv(x)) strided");
            }
        }
    }

    /** MaxPool's second output: int64 positions in the flattened [N, C, D, H, W] input, of the values of the first. */
    @Test
    void maxPoolIndicesAreFlatPositionsOfTheMaxima() {
        List<NodeProto> nodes = List.of(NodeProto.newBuilder().setName("mp").setOpType("MaxPool").addInput("x").addOutput("y").addOutput("idx")
                .addAttribute(ints("kernel_shape", 2, 3, 2)).addAttribute(ints("strides", 2, 2, 1)).addAttribute(ints("pads", 1, 1, 0, 0, 1, 1))
                .addAttribute(i("ceil_mode", 1)).build());
        Pool3dSpec spec = new Pool3dSpec(PoolType.MAX, new int[] {2, 3, 2}, new int[] {2, 2, 1}, new int[] {1, 1, 0, 0, 1, 1}, new int[] {1, 1, 1}, true, false);
        int[] out = spec.out(new int[] {4, 5, 6});
        try (Tensor x = input(X); Tensor x64 = x.to(DType.F64); Tensor ref = Tensor.zeros(DType.F64, 2, 3, out[0], out[1], out[2]);
             Tensor refIdx = Tensor.zeros(DType.I64, 2, 3, out[0], out[1], out[2]);
             InferenceSession s = InferenceSession.load(model(X, nodes, List.of(), "y", "idx"), "maxpool", SessionOptions.DEFAULT)) {
            Map<String, Tensor> r = s.run(Map.of("x", x));
            try (Tensor y = r.get("y"); Tensor idx = r.get("idx")) {
                Pool3d.forward(spec, x64, ref, refIdx);
                assertClose(ref.toDoubleArray(), y.toDoubleArray(), "values");
                assertEquals(DType.I64, idx.dtype());
                double[] iv = idx.toDoubleArray(), lv = refIdx.toDoubleArray(), xv = x.toDoubleArray(), yv = y.toDoubleArray();
                long vol = 4 * 5 * 6, outVol = (long) out[0] * out[1] * out[2];
                for (int k = 0; k < iv.length; k++) {
                    assertEquals(k / outVol * vol + (long) lv[k], (long) iv[k], "index " + k);
                    assertEquals(yv[k], xv[(int) iv[k]], "x[index] = y at " + k);
                }
            }
        }
    }

    private static String error(int[] xShape, List<NodeProto> nodes, List<TensorProto> inits) {
        try (Tensor x = input(xShape)) {
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
                try (InferenceSession s = InferenceSession.load(model(xShape, nodes, inits, "y"), "m", SessionOptions.DEFAULT); Tensor y = s.run(x)) {
                    y.numel();
                }
            });
            return e.getMessage();
        }
    }

    private static void contains(String msg, String... parts) {
        for (String p : parts) assertTrue(msg.contains(p), "'" + p + "' missing from: " + msg);
    }

    @Test
    void badWindowsNameTheNodeTheAttributeAndTheShapes() {
        TensorProto w5 = floats("w", -1, 1, 2, 3, 2, 2, 2), w4 = floats("w", -1, 1, 2, 3, 2, 2);
        contains(error(new int[] {1, 3, 5, 5}, List.of(node("MaxPool", List.of("x"), "y", ints("kernel_shape", 2, 2, 2))), List.of()),
                "'maxpool_y' (MaxPool)", "3 spatial axes", "rank 4");
        contains(error(X, List.of(node("Conv", List.of("x", "w"), "y", ints("strides", 1, 1), ints("pads", 0, 0, 0, 1, 1, 1))), List.of(w5)),
                "'conv_y' (Conv)", "'pads' = [0, 0, 0, 1, 1, 1] is for 3 spatial axes but 'strides' = [1, 1] is for 2");
        contains(error(X, List.of(node("Conv", List.of("x", "w"), "y")), List.of(w4)),
                "'conv_y' (Conv)", "[2, 3, 2, 2]", "expected [K, C/group, kD, kH, kW]");
        contains(error(X, List.of(node("Conv", List.of("x", "w"), "y", ints("kernel_shape", 2, 2, 3))), List.of(w5)),
                "'conv_y' (Conv)", "kernel_shape [2, 2, 3] differs from the weight shape [2, 3, 2, 2, 2]");
        contains(error(X, List.of(node("AveragePool", List.of("x"), "y", ints("kernel_shape", 2, 2, 2), ints("pads", 0, 0, 0, 0, 0, 2),
                ints("strides", 1, 1, 3))), List.of()), "'averagepool_y' (AveragePool)", "covers no element");
        List<NodeProto> cm = List.of(NodeProto.newBuilder().setName("mp").setOpType("MaxPool").addInput("x").addOutput("y").addOutput("idx")
                .addAttribute(ints("kernel_shape", 2, 2, 2)).addAttribute(i("storage_order", 1)).build());
        contains(error(X, cm, List.of()), "'mp' (MaxPool)", "'storage_order' = 1", "2-D MaxPool only");
    }

    /** vjp differentiates 3-D operators (GraphFiniteDifferenceTest) but not the indices output of a 3-D MaxPool. */
    @Test
    void vjpRefusesTheIndicesOfA3dMaxPoolNamingTheNode() {
        List<NodeProto> nodes = List.of(NodeProto.newBuilder().setName("mp").setOpType("MaxPool").addInput("x").addOutput("y").addOutput("idx")
                .addAttribute(ints("kernel_shape", 2, 2, 2)).build());
        OnnxGraph g = OnnxLoader.parse(model(X, nodes, List.of(), "y"), "m", OnnxLimits.DEFAULT);
        try (Tensor x = input(X); Tensor gy = Tensor.zeros(DType.F32, 2, 3, 3, 4, 5)) {
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
                try (DifferentiableGraph.Gradients gr = DifferentiableGraph.vjp(g, x, gy, DType.F32)) {
                    gr.toString();
                }
            });
            contains(e.getMessage(), "'mp' (MaxPool)", "indices output of a 3-D MaxPool is not available in vjp");
        }
    }
}
