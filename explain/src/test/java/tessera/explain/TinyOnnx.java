package tessera.explain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tessera.onnx.proto.OnnxProto.AttributeProto;
import tessera.onnx.proto.OnnxProto.GraphProto;
import tessera.onnx.proto.OnnxProto.ModelProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.OperatorSetIdProto;
import tessera.onnx.proto.OnnxProto.TensorProto;
import tessera.onnx.proto.OnnxProto.TensorShapeProto;
import tessera.onnx.proto.OnnxProto.TypeProto;
import tessera.onnx.proto.OnnxProto.ValueInfoProto;

/** Builds small ONNX models in tests: input "x" of a given shape (dim 0 ≤ 0 = symbolic batch), output "y". */
final class TinyOnnx {
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny");

    TinyOnnx(int... inputShape) {
        var s = TensorShapeProto.newBuilder();
        for (int d : inputShape) s.addDim(d > 0 ? TensorShapeProto.Dimension.newBuilder().setDimValue(d) : TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        graph.addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))));
        graph.addOutput(ValueInfoProto.newBuilder().setName("y"));
    }

    TinyOnnx init(String name, float[] values, int... shape) {
        var t = TensorProto.newBuilder().setName(name).setDataType(1);
        for (int d : shape) t.addDims(d);
        for (float v : values) t.addFloatData(v);
        graph.addInitializer(t);
        return this;
    }

    TinyOnnx node(String name, String op, List<String> in, String out, AttributeProto... attrs) {
        var b = NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) b.addAttribute(a);
        graph.addNode(b);
        return this;
    }

    static AttributeProto ints(String name, long... v) {
        var b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    Path write(Path dir, String name) {
        try {
            Path p = dir.resolve(name + ".onnx");
            Files.write(p, ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                    .setGraph(graph).build().toByteArray());
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** n deterministic values in [lo, hi). */
    static float[] values(int n, long seed, double lo, double hi) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] v = new float[n];
        for (int k = 0; k < n; k++) v[k] = (float) (lo + (hi - lo) * r.nextDouble());
        return v;
    }

    static List<String> in(String... names) { return new ArrayList<>(List.of(names)); }
}
