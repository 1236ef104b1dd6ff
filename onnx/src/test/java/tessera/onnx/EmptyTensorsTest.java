package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.i;
import static tessera.onnx.OpTableWalkTest.longs;
import static tessera.onnx.OpTableWalkTest.node;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.NodeProfile;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/**
 * Empty tensors (a 0-size dimension) in the inference session: graph inputs may have a 0 dimension (declared, or
 * given at run time for a symbolic one); steps with only empty outputs run no kernel; Concat and constant Pad make
 * non-empty outputs from empty inputs; every other operator that would read an empty tensor to write a non-empty
 * one is refused naming the node; negative and mismatched sizes are still rejected.
 */
class EmptyTensorsTest {
    /** A model with float32 input x of declared {@code dims} (-1 = symbolic) and output y. */
    static byte[] model(int[] dims, List<NodeProto> nodes, TensorProto... inits) {
        var s = OnnxProto.TensorShapeProto.newBuilder();
        for (int d : dims) {
            s.addDim(d < 0 ? OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimParam("n")
                    : OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        var g = OnnxProto.GraphProto.newBuilder().setName("empty").addAllNode(nodes).addAllInitializer(List.of(inits))
                .addInput(OnnxProto.ValueInfoProto.newBuilder().setName("x").setType(OnnxProto.TypeProto.newBuilder()
                        .setTensorType(OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))))
                .addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(14))
                .setGraph(g).build().toByteArray();
    }

    @Test
    void emptyInputsFlowThroughViewsAndSkippedSteps() {
        byte[] m = model(new int[] {0, 3, 4}, List.of(node("Relu", List.of("x"), "r"),
                node("Reshape", List.of("r", "shape"), "y", i("allowzero", 1))), longs("shape", new long[] {3, 4, 0}, 3));
        try (InferenceSession s = InferenceSession.load(m, "reshape", SessionOptions.DEFAULT); Tensor x = Tensor.zeros(DType.F32, 0, 3, 4)) {
            assertArrayEquals(new int[] {3, 4, 0}, s.outputShape(0, new int[] {0, 3, 4}));
            try (Tensor y = s.run(x)) {
                assertArrayEquals(new int[] {3, 4, 0}, y.shape());
                assertEquals(0, y.numel());
            }
            try (Tensor y = Tensor.zeros(DType.F32, 3, 4, 0)) {
                NodeProfile p = s.profile(new Tensor[] {x}, new Tensor[] {y}, 2);
                assertEquals(1, p.rows().size(), "one step (Relu); Reshape is a view");
                assertEquals("empty", p.rows().get(0).algorithm(), "the Relu step of an empty tensor runs no kernel");
            }
        }
    }

    @Test
    void concatAndConstantPadMakeNonEmptyOutputsFromEmptyInputs() {
        TensorProto c = floats("c", -1, 1, 2, 3);
        byte[] concat = model(new int[] {-1, 3}, List.of(node("Concat", List.of("x", "c"), "y", i("axis", 0))), c);
        try (InferenceSession s = InferenceSession.load(concat, "concat", SessionOptions.DEFAULT); Tensor x = Tensor.zeros(DType.F32, 0, 3);
             Tensor y = s.run(x)) {
            assertArrayEquals(new int[] {2, 3}, y.shape());
            float[] want = new float[6];
            for (int k = 0; k < 6; k++) want[k] = c.getFloatData(k);
            assertArrayEquals(want, y.toFloatArray(), "the empty batch adds no rows");
        }
        byte[] pad = model(new int[] {0, 2}, List.of(node("Pad", List.of("x", "pads", "v"), "y")),
                longs("pads", new long[] {1, 0, 2, 1}, 4), floats("v", 7, 7, new int[0]));
        try (InferenceSession s = InferenceSession.load(pad, "pad", SessionOptions.DEFAULT); Tensor x = Tensor.zeros(DType.F32, 0, 2);
             Tensor y = s.run(x)) {
            assertArrayEquals(new int[] {3, 3}, y.shape());
            for (float v : y.toFloatArray()) assertEquals(7f, v, "constant padding of an empty tensor");
        }
    }

    @Test
    void otherOperatorsReadingAnEmptyTensorForANonEmptyOutputAreRefused() {
        byte[] sum = model(new int[] {0, 3}, List.of(node("ReduceSum", List.of("x", "ax"), "y")), longs("ax", new long[] {0}, 1));
        var e = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(sum, "reduce", SessionOptions.DEFAULT));
        assertTrue(e.getMessage().contains("ReduceSum") && e.getMessage().contains("is empty") && e.getMessage().contains("[0, 3]"), e.getMessage());
        byte[] edge = model(new int[] {0, 2}, List.of(node("Pad", List.of("x", "pads"), "y", OpTableWalkTest.s("mode", "edge"))),
                longs("pads", new long[] {1, 0, 0, 0}, 4));
        var p = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(edge, "edge pad", SessionOptions.DEFAULT));
        assertTrue(p.getMessage().contains("Pad") && p.getMessage().contains("is empty"), p.getMessage());
        byte[] matmul = model(new int[] {2, 0}, List.of(node("MatMul", List.of("x", "w"), "y")), floats("w", -1, 1, 0, 3));
        var mm = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(matmul, "matmul", SessionOptions.DEFAULT));
        assertTrue(mm.getMessage().contains("MatMul") && mm.getMessage().contains("is empty"), mm.getMessage());
        byte[] relu = model(new int[] {2, -1}, List.of(node("Relu", List.of("x"), "y")));
        try (InferenceSession s = InferenceSession.load(relu, "relu", SessionOptions.DEFAULT)) {
            assertArrayEquals(new int[] {2, 0}, s.outputShape(0, new int[] {2, 0}), "a symbolic dimension may be 0 at run time");
        }
    }

    @Test
    void negativeAndMismatchedSizesAreStillRejected() {
        byte[] relu = model(new int[] {0, 3}, List.of(node("Relu", List.of("x"), "y")));
        try (InferenceSession s = InferenceSession.load(relu, "relu", SessionOptions.DEFAULT); Tensor x = Tensor.zeros(DType.F32, 0, 3)) {
            var neg = assertThrows(IllegalArgumentException.class, () -> s.outputShape(0, new int[] {-1, 3}));
            assertTrue(neg.getMessage().contains("any size >= 0"), neg.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.outputShape(0, new int[] {1, 3}), "declared 0, given 1");
            Map<String, Tensor> out = s.run(Map.of("x", x));
            assertArrayEquals(new int[] {0, 3}, out.get("y").shape());
            out.values().forEach(Tensor::close);
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2, -1), "Tensor shapes are never negative");
    }
}
