package tessera.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxLimits;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto.AttributeProto;
import tessera.onnx.proto.OnnxProto.GraphProto;
import tessera.onnx.proto.OnnxProto.ModelProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.OperatorSetIdProto;
import tessera.onnx.proto.OnnxProto.TensorProto;
import tessera.onnx.proto.OnnxProto.TensorShapeProto;
import tessera.onnx.proto.OnnxProto.TypeProto;
import tessera.onnx.proto.OnnxProto.ValueInfoProto;

/**
 * ONNX models: protobuf fields deleted, duplicated, retyped (re-encoded with another wire type) or set to odd
 * values anywhere in the message tree; dimensions 0, negative, 2^40; data types that do not match the data; node
 * inputs that dangle or form a cycle; duplicate names; huge attributes; opsets out of range. Accepted means loaded
 * into an {@link InferenceSession} (validated, optimized, planned) and, for a small single input, run once.
 */
final class OnnxTarget implements FuzzTarget {
    /** The limits a service taking untrusted models would set: 16 MiB files, 2^22 elements, dimensions up to 2^16. */
    static final SessionOptions OPTIONS = new SessionOptions(1, ConvAlgorithm.AUTO, new OnnxLimits(1L << 24, 1L << 22, 1L << 16, 10_000), true);
    private static final String[] NAMES = {"X", "Y", "W", "B", "c1", "r1", "p1", "f1", "", "shape", "\n\u0000\u001b[1m"};
    private final List<byte[]> seeds = new ArrayList<>();

    OnnxTarget() {
        seeds.add(cnn().toByteArray());
        seeds.add(eltwise().toByteArray());
    }

    @Override public String name() { return "onnx"; }
    @Override public String extension() { return ".onnx"; }
    @Override public List<byte[]> seeds() { return seeds; }
    @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(OnnxFormatException.class, IllegalArgumentException.class); }

    @Override
    public void exercise(byte[] input) {
        try (InferenceSession s = InferenceSession.load(input, "fuzz case", OPTIONS)) {
            if (s.inputNames().size() != 1) return;
            int[] shape = s.declaredInputShape(0);
            long n = 1;
            for (int k = 0; k < shape.length; k++) {
                if (shape[k] < 0) shape[k] = 1;
                n *= Math.max(shape[k], 1);
            }
            if (n > 1 << 16) return;
            try (Tensor x = Tensor.zeros(DType.F32, shape); Tensor y = s.run(x)) {
                y.numel();
            }
        }
    }

    // ------------------------------------------------------------------ seeds

    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder sh = TensorShapeProto.newBuilder();
        for (long d : dims) sh.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(sh)))
                .build();
    }

    private static TensorProto floats(String name, float fill, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        ByteBuffer b = ByteBuffer.allocate((int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(fill * ((i % 7) - 3));
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static NodeProto node(String op, String name, List<String> in, List<String> out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out);
        for (AttributeProto a : attrs) n.addAttribute(a);
        return n.build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static ModelProto model(GraphProto g) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("tessera-fuzz")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
    }

    /** Conv → Relu → MaxPool → Flatten → Gemm. */
    static ModelProto cnn() {
        GraphProto g = GraphProto.newBuilder().setName("cnn")
                .addInput(value("X", 1, 1, 8, 8)).addOutput(value("Y", 1, 3))
                .addInitializer(floats("W", 0.1f, 2, 1, 3, 3)).addInitializer(floats("B", 0.01f, 2))
                .addInitializer(floats("W2", 0.05f, 3, 18)).addInitializer(floats("B2", 0.02f, 3))
                .addNode(node("Conv", "c1", List.of("X", "W", "B"), List.of("c"), ints("kernel_shape", 3, 3), ints("pads", 0, 0, 0, 0), ints("strides", 1, 1)))
                .addNode(node("Relu", "r1", List.of("c"), List.of("r")))
                .addNode(node("MaxPool", "p1", List.of("r"), List.of("p"), ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .addNode(node("Flatten", "f1", List.of("p"), List.of("f"), intAttr("axis", 1)))
                .addNode(node("Gemm", "g1", List.of("f", "W2", "B2"), List.of("Y"), intAttr("transB", 1)))
                .build();
        return model(g);
    }

    /** Add/Mul/Sigmoid with a Constant node and a Reshape by an int64 initializer. */
    static ModelProto eltwise() {
        ByteBuffer shape = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(12);
        TensorProto shapeT = TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2)
                .setRawData(ByteString.copyFrom(shape.array())).build();
        AttributeProto constant = AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(floats("", 0.5f, 1, 3, 1, 1)).build();
        GraphProto g = GraphProto.newBuilder().setName("elt")
                .addInput(value("X", 1, 3, 2, 2)).addOutput(value("Y", 1, 12))
                .addInitializer(shapeT)
                .addNode(node("Constant", "k", List.of(), List.of("k"), constant))
                .addNode(node("Add", "a", List.of("X", "k"), List.of("a")))
                .addNode(node("Mul", "m", List.of("a", "X"), List.of("m")))
                .addNode(node("Sigmoid", "s", List.of("m"), List.of("s")))
                .addNode(node("Reshape", "rs", List.of("s", "shape"), List.of("Y")))
                .build();
        return model(g);
    }

    // ------------------------------------------------------------------ mutations

    @Override
    public byte[] mutateStructure(byte[] in, Random rnd) {
        ModelProto m;
        try {
            m = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            return ByteMutations.mutate(in, rnd);
        }
        ModelProto.Builder b = m.toBuilder();
        GraphProto.Builder g = b.getGraphBuilder();
        switch (rnd.nextInt(10)) {
            case 0 -> { // dimensions 0, negative, 2^40 on inputs, outputs or initializers
                if (rnd.nextBoolean() && g.getInitializerCount() > 0) {
                    TensorProto.Builder t = g.getInitializerBuilder(rnd.nextInt(g.getInitializerCount()));
                    if (t.getDimsCount() > 0 && rnd.nextInt(4) > 0) t.setDims(rnd.nextInt(t.getDimsCount()), ByteMutations.interestingLong(rnd));
                    else t.addDims(ByteMutations.interestingLong(rnd));
                } else if (g.getInputCount() > 0 || g.getOutputCount() > 0) {
                    ValueInfoProto.Builder v = (rnd.nextBoolean() || g.getOutputCount() == 0) && g.getInputCount() > 0 ? g.getInputBuilder(0) : g.getOutputBuilder(0);
                    TensorShapeProto.Builder sh = v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
                    if (sh.getDimCount() > 0 && rnd.nextInt(4) > 0) sh.getDimBuilder(rnd.nextInt(sh.getDimCount())).setDimValue(ByteMutations.interestingLong(rnd));
                    else if (rnd.nextBoolean()) sh.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
                    else if (sh.getDimCount() > 0) sh.removeDim(0);
                }
            }
            case 1 -> { // data type that does not match the data
                if (g.getInitializerCount() == 0) return ByteMutations.mutate(in, rnd);
                TensorProto.Builder t = g.getInitializerBuilder(rnd.nextInt(g.getInitializerCount()));
                int[] types = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 16, 17, 99};
                t.setDataType(types[rnd.nextInt(types.length)]);
                if (rnd.nextInt(3) == 0) { // data moved from raw_data to a typed field, or duplicated there
                    for (int k = 0; k < 1 + rnd.nextInt(5); k++) t.addInt64Data(ByteMutations.interestingLong(rnd));
                    if (rnd.nextBoolean()) t.clearRawData();
                }
            }
            case 2 -> { // dangling input or a cycle
                if (g.getNodeCount() == 0) return ByteMutations.mutate(in, rnd);
                int i = rnd.nextInt(g.getNodeCount());
                NodeProto.Builder n = g.getNodeBuilder(i);
                int j = i + rnd.nextInt(g.getNodeCount() - i);
                String target = rnd.nextInt(3) == 0 ? "nowhere" : g.getNode(j).getOutputCount() > 0 ? g.getNode(j).getOutput(0) : "nowhere";
                if (n.getInputCount() > 0) n.setInput(rnd.nextInt(n.getInputCount()), target);
                else n.addInput(target);
                if (rnd.nextBoolean() && g.getNodeCount() > 1) { // reorder nodes so producers follow consumers
                    NodeProto first = g.getNode(0);
                    g.removeNode(0);
                    g.addNode(first);
                }
            }
            case 3 -> { // duplicate names
                switch (rnd.nextInt(4)) {
                    case 0 -> { if (g.getInitializerCount() > 0) g.addInitializer(g.getInitializer(rnd.nextInt(g.getInitializerCount()))); }
                    case 1 -> { if (g.getInputCount() > 0) g.addInput(g.getInput(0)); }
                    case 2 -> { NodeProto.Builder n = g.getNodeCount() > 1 ? g.getNodeBuilder(rnd.nextInt(g.getNodeCount())) : null; if (n != null && n.getOutputCount() > 0 && g.getNode(0).getOutputCount() > 0) n.setOutput(0, g.getNode(0).getOutput(0)); }
                    default -> { if (g.getNodeCount() > 0) g.addNode(g.getNode(rnd.nextInt(g.getNodeCount()))); }
                }
            }
            case 4 -> { // huge or odd attributes
                if (g.getNodeCount() == 0) return ByteMutations.mutate(in, rnd);
                NodeProto.Builder n = g.getNodeBuilder(rnd.nextInt(g.getNodeCount()));
                String[] names = {"kernel_shape", "pads", "strides", "dilations", "axis", "group", "transA", "transB", "alpha", "ceil_mode", "auto_pad", "perm", "axes", "value", "to"};
                AttributeProto.Builder a = AttributeProto.newBuilder().setName(names[rnd.nextInt(names.length)]);
                switch (rnd.nextInt(5)) {
                    case 0 -> { a.setType(AttributeProto.AttributeType.INTS); int len = rnd.nextInt(3) == 0 ? 100_000 : rnd.nextInt(9); for (int k = 0; k < len; k++) a.addInts(rnd.nextBoolean() ? ByteMutations.interestingLong(rnd) : rnd.nextInt(5)); }
                    case 1 -> a.setType(AttributeProto.AttributeType.INT).setI(ByteMutations.interestingLong(rnd));
                    case 2 -> a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(rnd.nextBoolean() ? "SAME_UPPER" : "x".repeat(rnd.nextInt(1 << 20))));
                    case 3 -> a.setType(AttributeProto.AttributeType.FLOAT).setF(NpyTarget.pick(rnd, Float.NaN, Float.POSITIVE_INFINITY, -1f, 0f, 1e30f));
                    default -> a.setType(AttributeProto.AttributeType.forNumber(rnd.nextInt(15)) == null ? AttributeProto.AttributeType.GRAPH : AttributeProto.AttributeType.forNumber(rnd.nextInt(15)));
                }
                int existing = -1;
                for (int k = 0; k < n.getAttributeCount(); k++) if (n.getAttribute(k).getName().equals(a.getName())) existing = k;
                if (existing >= 0 && rnd.nextBoolean()) n.setAttribute(existing, a);
                else n.addAttribute(a);
            }
            case 5 -> { // opsets out of range, other domains, several imports
                long[] versions = {0, -1, 1, 6, 7, 11, 17, 18, 19, 21, 1000, 1L << 40};
                if (rnd.nextBoolean() && b.getOpsetImportCount() > 0) b.setOpsetImport(0, OperatorSetIdProto.newBuilder().setDomain(rnd.nextBoolean() ? "" : "com.microsoft").setVersion(versions[rnd.nextInt(versions.length)]));
                else b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(rnd.nextBoolean() ? "" : "ai.onnx").setVersion(versions[rnd.nextInt(versions.length)]));
            }
            case 6 -> { // an operator renamed
                if (g.getNodeCount() == 0) return ByteMutations.mutate(in, rnd);
                String[] ops = {"Conv", "Relu", "MaxPool", "AveragePool", "Gemm", "MatMul", "Add", "Mul", "Reshape", "Flatten", "Concat", "Transpose",
                        "Softmax", "BatchNormalization", "GlobalAveragePool", "Split", "Slice", "Gather", "Pad", "Resize", "Loop", "If", "Unknown"};
                g.getNodeBuilder(rnd.nextInt(g.getNodeCount())).setOpType(ops[rnd.nextInt(ops.length)]);
            }
            case 7 -> { // a field retyped: re-encoded with another wire type (the parser keeps it as an unknown field)
                return retype(b.build(), rnd).toByteArray();
            }
            default -> { // anywhere in the tree: a field cleared, duplicated or set to an odd value
                int[] counter = {0};
                int count = countMessages(b.build());
                return rebuild(b.build(), counter, rnd.nextInt(count), rnd).toByteArray();
            }
        }
        return b.build().toByteArray();
    }

    private static int countMessages(Message m) {
        int n = 1;
        for (var e : m.getAllFields().entrySet()) {
            if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) continue;
            if (e.getKey().isRepeated()) for (Object o : (List<?>) e.getValue()) n += countMessages((Message) o);
            else n += countMessages((Message) e.getValue());
        }
        return n;
    }

    private static Message rebuild(Message m, int[] counter, int target, Random rnd) {
        int me = counter[0]++;
        Message.Builder b = m.toBuilder();
        for (var e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) continue;
            if (f.isRepeated()) {
                List<?> l = (List<?>) e.getValue();
                for (int i = 0; i < l.size(); i++) b.setRepeatedField(f, i, rebuild((Message) l.get(i), counter, target, rnd));
            } else {
                b.setField(f, rebuild((Message) e.getValue(), counter, target, rnd));
            }
        }
        if (me == target) mutateFields(b, rnd);
        return b.build();
    }

    private static void mutateFields(Message.Builder b, Random rnd) {
        List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
        FieldDescriptor f = fields.get(rnd.nextInt(fields.size()));
        int action = rnd.nextInt(5);
        if (action == 0) {
            b.clearField(f);
        } else if (f.isRepeated()) {
            int n = b.getRepeatedFieldCount(f);
            if (n > 0 && action == 1) b.addRepeatedField(f, b.getRepeatedField(f, rnd.nextInt(n)));
            else if (n > 0 && action == 2) b.setRepeatedField(f, rnd.nextInt(n), odd(f, b, rnd));
            else { Object v = odd(f, b, rnd); if (v != null) b.addRepeatedField(f, v); }
        } else {
            Object v = odd(f, b, rnd);
            if (v != null) b.setField(f, v);
        }
    }

    private static Object odd(FieldDescriptor f, Message.Builder b, Random rnd) {
        return switch (f.getJavaType()) {
            case INT -> (int) ByteMutations.interestingLong(rnd);
            case LONG -> ByteMutations.interestingLong(rnd);
            case FLOAT -> NpyTarget.pick(rnd, Float.NaN, Float.NEGATIVE_INFINITY, -0f, 1e30f, 2f);
            case DOUBLE -> NpyTarget.pick(rnd, Double.NaN, Double.POSITIVE_INFINITY, -1d);
            case BOOLEAN -> rnd.nextBoolean();
            case STRING -> NAMES[rnd.nextInt(NAMES.length)];
            case BYTE_STRING -> {
                byte[] r = new byte[NpyTarget.pick(rnd, 0, 1, 3, 4, 7, 8, 64, 4096)];
                rnd.nextBytes(r);
                yield ByteString.copyFrom(r);
            }
            case ENUM -> {
                List<EnumValueDescriptor> vs = f.getEnumType().getValues();
                yield vs.get(rnd.nextInt(vs.size()));
            }
            case MESSAGE -> b.newBuilderForField(f).build();
        };
    }

    /** Moves one present field of a random message into the unknown fields with a different wire type. */
    private static ModelProto retype(ModelProto m, Random rnd) {
        int[] counter = {0};
        int target = rnd.nextInt(countMessages(m));
        return (ModelProto) retypeAt(m, counter, target, rnd);
    }

    private static Message retypeAt(Message m, int[] counter, int target, Random rnd) {
        int me = counter[0]++;
        Message.Builder b = m.toBuilder();
        for (var e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) continue;
            if (f.isRepeated()) {
                List<?> l = (List<?>) e.getValue();
                for (int i = 0; i < l.size(); i++) b.setRepeatedField(f, i, retypeAt((Message) l.get(i), counter, target, rnd));
            } else {
                b.setField(f, retypeAt((Message) e.getValue(), counter, target, rnd));
            }
        }
        if (me == target && !m.getAllFields().isEmpty()) {
            List<FieldDescriptor> present = new ArrayList<>(m.getAllFields().keySet());
            FieldDescriptor f = present.get(rnd.nextInt(present.size()));
            b.clearField(f);
            UnknownFieldSet.Field.Builder u = UnknownFieldSet.Field.newBuilder();
            boolean wasBytes = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE || f.getJavaType() == FieldDescriptor.JavaType.STRING
                    || f.getJavaType() == FieldDescriptor.JavaType.BYTE_STRING;
            switch (rnd.nextInt(3)) {
                case 0 -> { if (wasBytes) u.addVarint(ByteMutations.interestingLong(rnd)); else u.addLengthDelimited(ByteString.copyFromUtf8("retyped")); }
                case 1 -> u.addFixed32(rnd.nextInt());
                default -> u.addFixed64(rnd.nextLong());
            }
            b.setUnknownFields(UnknownFieldSet.newBuilder(b.getUnknownFields()).addField(f.getNumber(), u.build()).build());
        }
        return b.build();
    }
}
