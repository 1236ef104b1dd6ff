package tessera.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tessera.memory.TensorArena;
import tessera.onnx.proto.OnnxProto.AttributeProto;
import tessera.onnx.proto.OnnxProto.GraphProto;
import tessera.onnx.proto.OnnxProto.ModelProto;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.OperatorSetIdProto;
import tessera.onnx.proto.OnnxProto.TensorProto;
import tessera.onnx.proto.OnnxProto.TensorShapeProto;
import tessera.onnx.proto.OnnxProto.ValueInfoProto;

/**
 * Reads an ONNX model file into an {@link OnnxGraph}, with the hard limits of {@link OnnxLimits}. Every failure is
 * an {@link OnnxFormatException} naming the file and the part that is wrong. Structural checks only: operator
 * support and attributes are checked by {@link OnnxValidator}.
 */
public final class OnnxLoader {
    /** Opset range of the default domain that Tessera implements. */
    public static final int MIN_OPSET = 1, MAX_OPSET = 18;

    private OnnxLoader() {}

    public static OnnxGraph load(Path file) { return load(file, OnnxLimits.DEFAULT); }

    public static OnnxGraph load(Path file, OnnxLimits limits) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new OnnxFormatException("ONNX model file " + file + " does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read ONNX model file " + file + ": " + e.getMessage(), e);
        }
        if (size > limits.maxFileBytes()) {
            throw new OnnxFormatException("ONNX model file " + file + " has " + size + " bytes, more than the limit of "
                    + limits.maxFileBytes() + " bytes (OnnxLimits.maxFileBytes)");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read ONNX model file " + file + ": " + e.getMessage(), e);
        }
        return parse(bytes, file.toString(), limits);
    }

    /** Parses a model from bytes; {@code source} names it in messages. */
    public static OnnxGraph parse(byte[] bytes, String source, OnnxLimits limits) {
        if (bytes.length > limits.maxFileBytes()) {
            throw new OnnxFormatException("ONNX model " + source + " has " + bytes.length + " bytes, more than the limit of " + limits.maxFileBytes());
        }
        if (bytes.length == 0) throw new OnnxFormatException("ONNX model " + source + " is empty (0 bytes)");
        ModelProto model;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(64);
            in.setSizeLimit(bytes.length);
            model = ModelProto.parseFrom(in);
            if (!in.isAtEnd()) throw new OnnxFormatException("ONNX model " + source + ": trailing bytes after the model message");
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException("ONNX model " + source + " is not a valid ONNX protobuf (truncated or corrupt: "
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new OnnxFormatException("ONNX model " + source + " could not be decoded: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new OnnxFormatException("ONNX model " + source + " could not be decoded: " + e, e);
        }
        if (!model.hasGraph()) throw new OnnxFormatException("ONNX model " + source + " has no graph (not an ONNX model file?)");
        long opset = -1;
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) opset = o.getVersion();
        }
        if (opset < 0) throw new OnnxFormatException("ONNX model " + source + " imports no opset of the default domain");
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new OnnxFormatException("ONNX model " + source + " uses opset " + opset + "; Tessera supports opsets "
                    + MIN_OPSET + ".." + MAX_OPSET);
        }
        TensorArena arena = new TensorArena();
        try {
            return convertGraph(model.getGraph(), opset, limits, arena, source);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static OnnxGraph convertGraph(GraphProto g, long opset, OnnxLimits limits, TensorArena arena, String source) {
        if (g.getNodeCount() > limits.maxNodes()) {
            throw new OnnxFormatException("ONNX model " + source + " has " + g.getNodeCount() + " nodes, more than the limit " + limits.maxNodes());
        }
        if (g.getSparseInitializerCount() > 0) {
            throw new OnnxFormatException("ONNX model " + source + " has sparse initializers, which Tessera does not support");
        }
        Map<String, tessera.memory.Tensor> inits = new LinkedHashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            String name = t.getName();
            if (name.isEmpty()) throw new OnnxFormatException("ONNX model " + source + ": an initializer has no name");
            if (inits.containsKey(name)) throw new OnnxFormatException("ONNX model " + source + ": initializer '" + name + "' is defined twice");
            inits.put(name, OnnxTensors.toTensor(t, "initializer '" + name + "'", limits, arena));
        }
        List<OnnxGraph.ValueInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) {
            if (inits.containsKey(v.getName())) continue; // IR < 4 lists initializers among inputs
            inputs.add(valueInfo(v, limits, source));
        }
        if (inputs.isEmpty()) throw new OnnxFormatException("ONNX model " + source + " declares no graph input");
        List<String> outputs = new ArrayList<>();
        for (ValueInfoProto v : g.getOutputList()) outputs.add(v.getName());
        if (outputs.isEmpty()) throw new OnnxFormatException("ONNX model " + source + " declares no graph output");

        List<OnnxNode> nodes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> defined = new HashSet<>(inits.keySet());
        for (OnnxGraph.ValueInfo v : inputs) defined.add(v.name());
        int idx = 0;
        for (NodeProto n : g.getNodeList()) {
            String name = n.getName().isEmpty() ? n.getOpType() + "_" + idx : n.getName();
            while (!names.add(name)) name = name + "_" + idx;
            idx++;
            String domain = n.getDomain();
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
                throw new OnnxFormatException("ONNX model " + source + ": node '" + name + "' (" + n.getOpType() + ") is in domain '"
                        + domain + "'; only the default ONNX domain is supported");
            }
            Map<String, OnnxAttribute> attrs = new LinkedHashMap<>();
            for (AttributeProto a : n.getAttributeList()) {
                attrs.put(a.getName(), attribute(a, name, n.getOpType(), limits, arena));
            }
            if (n.getOutputCount() == 0 || n.getOutput(0).isEmpty()) {
                throw new OnnxFormatException("ONNX model " + source + ": node '" + name + "' (" + n.getOpType() + ") has no output"
                        + (n.getOutputCount() == 0 ? "" : " (its first output name is empty)"));
            }
            for (String in : n.getInputList()) {
                if (!in.isEmpty() && !defined.contains(in)) {
                    throw new OnnxFormatException("ONNX model " + source + ": node '" + name + "' (" + n.getOpType() + ") reads '" + in
                            + "', which no earlier node, input or initializer defines (graph not in topological order or broken)");
                }
            }
            for (String out : n.getOutputList()) {
                if (!out.isEmpty() && !defined.add(out)) {
                    throw new OnnxFormatException("ONNX model " + source + ": node '" + name + "' (" + n.getOpType() + ") redefines value '" + out + "'");
                }
            }
            nodes.add(new OnnxNode(name, n.getOpType(), n.getInputList(), n.getOutputList(), attrs));
        }
        for (String o : outputs) {
            if (!defined.contains(o)) throw new OnnxFormatException("ONNX model " + source + ": graph output '" + o + "' is never computed");
        }
        List<OnnxNode> normalized = WindowRewrites.rewrite(OpsetNormalizer.normalize(nodes, opset, arena), inits, arena);
        return new OnnxGraph(Decompositions.rewrite(normalized, inits, arena), inits, inputs, outputs, opset, arena);
    }

    private static OnnxGraph.ValueInfo valueInfo(ValueInfoProto v, OnnxLimits limits, String source) {
        if (!v.hasType() || !v.getType().hasTensorType()) {
            throw new OnnxFormatException("ONNX model " + source + ": graph input '" + v.getName() + "' is not a tensor");
        }
        var tt = v.getType().getTensorType();
        String elem = OnnxTensors.typeName(tt.getElemType());
        if (!tt.hasShape()) return new OnnxGraph.ValueInfo(v.getName(), null, elem);
        int[] dims = new int[tt.getShape().getDimCount()];
        for (int k = 0; k < dims.length; k++) {
            TensorShapeProto.Dimension d = tt.getShape().getDim(k);
            if (d.hasDimValue()) {
                long x = d.getDimValue();
                if (x < 0 || x > limits.maxDim()) {
                    throw new OnnxFormatException("ONNX model " + source + ": graph input '" + v.getName() + "' declares dimension " + k
                            + " = " + x + ", outside [0, " + limits.maxDim() + "]");
                }
                dims[k] = (int) x;
            } else {
                dims[k] = -1;
            }
        }
        return new OnnxGraph.ValueInfo(v.getName(), dims, elem);
    }

    private static OnnxAttribute attribute(AttributeProto a, String node, String op, OnnxLimits limits, TensorArena arena) {
        String where = "node '" + node + "' (" + op + ") attribute '" + a.getName() + "'";
        AttributeProto.AttributeType type = a.getType();
        if (type == AttributeProto.AttributeType.UNDEFINED) {
            // very old exporters leave type unset: infer it from the field present
            if (a.hasT()) type = AttributeProto.AttributeType.TENSOR;
            else if (a.getIntsCount() > 0) type = AttributeProto.AttributeType.INTS;
            else if (a.getFloatsCount() > 0) type = AttributeProto.AttributeType.FLOATS;
            else if (a.hasS()) type = AttributeProto.AttributeType.STRING;
            else if (a.hasF()) type = AttributeProto.AttributeType.FLOAT;
            else if (a.hasI()) type = AttributeProto.AttributeType.INT;
        }
        return switch (type) {
            case INT -> OnnxAttribute.ofInt(a.getName(), a.getI());
            case FLOAT -> OnnxAttribute.ofFloat(a.getName(), a.getF());
            case STRING -> OnnxAttribute.ofString(a.getName(), decode(a.getS()));
            case INTS -> {
                long[] v = new long[a.getIntsCount()];
                for (int k = 0; k < v.length; k++) v[k] = a.getInts(k);
                yield OnnxAttribute.ofInts(a.getName(), v);
            }
            case FLOATS -> {
                float[] v = new float[a.getFloatsCount()];
                for (int k = 0; k < v.length; k++) v[k] = a.getFloats(k);
                yield new OnnxAttribute(a.getName(), OnnxAttribute.Type.FLOATS, 0, 0, null, new long[0], v, null);
            }
            case TENSOR -> new OnnxAttribute(a.getName(), OnnxAttribute.Type.TENSOR, 0, 0, null, new long[0], new float[0],
                    OnnxTensors.toTensor(a.getT(), where, limits, arena));
            default -> new OnnxAttribute(a.getName(), OnnxAttribute.Type.OTHER, 0, 0, null, new long[0], new float[0], null);
        };
    }

    private static String decode(ByteString s) { return new String(s.toByteArray(), StandardCharsets.UTF_8); }
}
