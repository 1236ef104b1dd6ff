package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto;

/** Malformed, hostile and unsupported models fail with clear {@link OnnxFormatException}s, never a hang or OOM. */
class OnnxErrorsTest {
    private static InferenceSession load(byte[] b) { return InferenceSession.load(b, "test.onnx", SessionOptions.DEFAULT); }

    @Test
    void everyTruncationFailsCleanly() {
        byte[] model = Fixtures.bytes("resnet_tiny.onnx");
        Random r = new Random(1);
        for (int i = 0; i < 60; i++) {
            int len = i < 10 ? i : r.nextInt(model.length - 1);
            byte[] cut = java.util.Arrays.copyOf(model, len);
            RuntimeException e = assertThrows(RuntimeException.class, () -> load(cut).close(), "truncated to " + len);
            assertTrue(e instanceof OnnxFormatException, "truncated to " + len + ": " + e);
        }
    }

    @Test
    void byteFlipsFailCleanlyOrStillLoad() {
        byte[] model = Fixtures.bytes("mobilenetv2_tiny.onnx");
        Random r = new Random(2);
        int failed = 0;
        for (int i = 0; i < 200; i++) {
            byte[] b = model.clone();
            int at = r.nextInt(b.length);
            b[at] = (byte) (b[at] ^ (1 << r.nextInt(8)));
            try (InferenceSession s = load(b)) {
                s.memoryReport(); // a flip inside weight data leaves a valid model
            } catch (OnnxFormatException e) {
                failed++;
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
            }
        }
        assertTrue(failed > 0, "no flip was detected");
    }

    private static OnnxProto.ModelProto.Builder tinyModel() {
        var x = OnnxProto.ValueInfoProto.newBuilder().setName("x").setType(OnnxProto.TypeProto.newBuilder().setTensorType(
                OnnxProto.TypeProto.Tensor.newBuilder().setElemType(1).setShape(OnnxProto.TensorShapeProto.newBuilder()
                        .addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                        .addDim(OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(4)))));
        var g = OnnxProto.GraphProto.newBuilder().setName("g").addInput(x).addOutput(OnnxProto.ValueInfoProto.newBuilder().setName("y"));
        return OnnxProto.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxProto.OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g);
    }

    private static OnnxProto.NodeProto node(String name, String op, String in, String out) {
        return OnnxProto.NodeProto.newBuilder().setName(name).setOpType(op).addInput(in).addOutput(out).build();
    }

    @Test
    void unsupportedOperatorsAreAllListedWithNodeNames() {
        var m = tinyModel();
        m.getGraphBuilder().addNode(node("a", "Hardmax", "x", "t1")).addNode(node("b", "Relu", "t1", "t2"))
                .addNode(node("c", "Hardmax", "t2", "t3")).addNode(node("d", "NonZero", "t3", "y"));
        var e = assertThrows(OnnxFormatException.class, () -> load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("Hardmax (nodes a, c)") && e.getMessage().contains("NonZero (nodes d)"), e.getMessage());
    }

    @Test
    void declaredSizeMustMatchData() {
        var m = tinyModel();
        var t = OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1).addDims(4).addFloatData(1).addFloatData(2);
        m.getGraphBuilder().addInitializer(t).addNode(OnnxProto.NodeProto.newBuilder().setName("add").setOpType("Add").addInput("x").addInput("w").addOutput("y"));
        var e = assertThrows(OnnxFormatException.class, () -> load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("initializer 'w'") && e.getMessage().contains("holds 2 values"), e.getMessage());

        var m2 = tinyModel();
        var raw = OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1).addDims(4).setRawData(com.google.protobuf.ByteString.copyFrom(new byte[12]));
        m2.getGraphBuilder().addInitializer(raw).addNode(OnnxProto.NodeProto.newBuilder().setName("add").setOpType("Add").addInput("x").addInput("w").addOutput("y"));
        var e2 = assertThrows(OnnxFormatException.class, () -> load(m2.build().toByteArray()));
        assertTrue(e2.getMessage().contains("raw_data has 12 bytes"), e2.getMessage());
    }

    @Test
    void absurdDimensionsAreRejectedBeforeAllocation() {
        var m = tinyModel();
        var t = OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1).addDims(1L << 40).addDims(1L << 40);
        m.getGraphBuilder().addInitializer(t).addNode(OnnxProto.NodeProto.newBuilder().setName("add").setOpType("Add").addInput("x").addInput("w").addOutput("y"));
        var e = assertThrows(OnnxFormatException.class, () -> load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("initializer 'w'"), e.getMessage());
        var m2 = tinyModel();
        var t2 = OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1).addDims(1 << 20).addDims(1 << 20);
        m2.getGraphBuilder().addInitializer(t2).addNode(OnnxProto.NodeProto.newBuilder().setName("add").setOpType("Add").addInput("x").addInput("w").addOutput("y"));
        var e2 = assertThrows(OnnxFormatException.class, () -> load(m2.build().toByteArray()));
        assertTrue(e2.getMessage().contains("limit"), e2.getMessage());
    }

    @Test
    void badAttributesNameTheNode() {
        var m = tinyModel();
        m.getGraphBuilder().addNode(OnnxProto.NodeProto.newBuilder().setName("pool1").setOpType("MaxPool").addInput("x").addOutput("y")
                .addAttribute(OnnxProto.AttributeProto.newBuilder().setName("kernel_shape").setType(OnnxProto.AttributeProto.AttributeType.INTS).addInts(0).addInts(2)));
        var e = assertThrows(OnnxFormatException.class, () -> load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("node 'pool1' (MaxPool)") && e.getMessage().contains("kernel_shape"), e.getMessage());

        var m2 = tinyModel();
        m2.getGraphBuilder().addNode(OnnxProto.NodeProto.newBuilder().setName("sm").setOpType("Softmax").addInput("x").addOutput("y")
                .addAttribute(OnnxProto.AttributeProto.newBuilder().setName("axis").setType(OnnxProto.AttributeProto.AttributeType.STRING)
                        .setS(com.google.protobuf.ByteString.copyFromUtf8("one"))));
        var e2 = assertThrows(OnnxFormatException.class, () -> load(m2.build().toByteArray()));
        assertTrue(e2.getMessage().contains("node 'sm' (Softmax)") && e2.getMessage().contains("axis"), e2.getMessage());
    }

    @Test
    void shapeErrorsNameTheNode() {
        var m = tinyModel();
        var w = OnnxProto.TensorProto.newBuilder().setName("w").setDataType(1).addDims(5).addDims(3);
        for (int i = 0; i < 15; i++) w.addFloatData(i);
        m.getGraphBuilder().addInitializer(w).addNode(OnnxProto.NodeProto.newBuilder().setName("fc").setOpType("MatMul").addInput("x").addInput("w").addOutput("y"));
        var e = assertThrows(OnnxFormatException.class, () -> load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("node 'fc' (MatMul)") && e.getMessage().contains("inner dimensions"), e.getMessage());
    }

    @Test
    void notAModelAndEmptyFile() {
        assertThrows(OnnxFormatException.class, () -> load(new byte[0]));
        assertThrows(OnnxFormatException.class, () -> load("this is not an onnx file at all".getBytes()));
        var e = assertThrows(OnnxFormatException.class, () -> InferenceSession.load(java.nio.file.Path.of("/nonexistent/m.onnx")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
