package tessera.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks, before anything runs, that every operator is supported (one error lists every unsupported op type with
 * its node names) and that each node's attributes are valid (an error names the node, the attribute, the value and
 * what was expected).
 */
public final class OnnxValidator {
    /** Operators of the default domain that Tessera executes (opsets 9–18). */
    public static final Set<String> SUPPORTED = Set.of(
            "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "MaxUnpool",
            "BatchNormalization", "LRN", "Dropout", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid",
            "HardSwish", "Tanh", "Softplus", "Mish", "Clip", "Softmax", "LogSoftmax", "Gemm", "MatMul", "Add", "Sub", "Mul",
            "Div", "Sum", "Concat", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Shape", "Gather", "Slice",
            "Constant", "ConstantOfShape", "Identity", "Pad", "ReduceMean", "Cast");

    private OnnxValidator() {}

    public static void validate(OnnxGraph g) {
        Map<String, List<String>> unsupported = new LinkedHashMap<>();
        for (OnnxNode n : g.nodes()) {
            if (!SUPPORTED.contains(n.opType())) unsupported.computeIfAbsent(n.opType(), k -> new ArrayList<>()).add(n.name());
        }
        if (!unsupported.isEmpty()) {
            StringBuilder sb = new StringBuilder("unsupported ONNX operators: ");
            boolean first = true;
            for (var e : unsupported.entrySet()) {
                if (!first) sb.append("; ");
                first = false;
                List<String> names = e.getValue();
                sb.append(e.getKey()).append(" (nodes ");
                sb.append(String.join(", ", names.subList(0, Math.min(names.size(), 10))));
                if (names.size() > 10) sb.append(", ... ").append(names.size() - 10).append(" more");
                sb.append(')');
            }
            throw new OnnxFormatException(sb.toString());
        }
        for (OnnxNode n : g.nodes()) validateNode(n, g.opsetVersion());
    }

    static OnnxFormatException bad(OnnxNode n, String what) { return new OnnxFormatException(n.describe() + ": " + what); }

    private static void inputs(OnnxNode n, int min, int max) {
        int count = n.inputs().size();
        if (count < min || count > max || (min > 0 && !n.hasInput(0))) {
            throw bad(n, "has " + count + " inputs " + n.inputs() + ", expected " + (min == max ? "" + min : min + ".." + max));
        }
    }

    private static void positive(OnnxNode n, String attr, int[] v, int len) {
        if (v == null) return;
        if (v.length != len) throw bad(n, "attribute '" + attr + "' = " + Arrays.toString(v) + " must have " + len + " values (2-D only)");
        for (int x : v) if (x < 1) throw bad(n, "attribute '" + attr + "' = " + Arrays.toString(v) + " must be >= 1");
    }

    private static void pads(OnnxNode n, int len) {
        int[] p = n.getIntArray("pads", null);
        if (p == null) return;
        if (p.length != len) throw bad(n, "attribute 'pads' = " + Arrays.toString(p) + " must have " + len + " values");
        for (int x : p) if (x < 0) throw bad(n, "attribute 'pads' = " + Arrays.toString(p) + " must be >= 0");
    }

    private static void autoPad(OnnxNode n) {
        String ap = n.getString("auto_pad", "NOTSET");
        if (!Set.of("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID").contains(ap)) {
            throw bad(n, "attribute 'auto_pad' = '" + ap + "', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
        }
        if (!ap.equals("NOTSET") && n.has("pads")) throw bad(n, "has both 'auto_pad' = '" + ap + "' and explicit 'pads'");
    }

    private static void pool(OnnxNode n, boolean kernelRequired) {
        inputs(n, 1, 1);
        int[] k = n.getIntArray("kernel_shape", null);
        if (kernelRequired && k == null) throw bad(n, "attribute 'kernel_shape' is required");
        positive(n, "kernel_shape", k, 2);
        positive(n, "strides", n.getIntArray("strides", null), 2);
        positive(n, "dilations", n.getIntArray("dilations", null), 2);
        pads(n, 4);
        autoPad(n);
        long ceil = n.getInt("ceil_mode", 0);
        if (ceil != 0 && ceil != 1) throw bad(n, "attribute 'ceil_mode' = " + ceil + ", expected 0 or 1");
    }

    static void validateNode(OnnxNode n, long opset) {
        switch (n.opType()) {
            case "Conv" -> {
                inputs(n, 2, 3);
                positive(n, "kernel_shape", n.getIntArray("kernel_shape", null), 2);
                positive(n, "strides", n.getIntArray("strides", null), 2);
                positive(n, "dilations", n.getIntArray("dilations", null), 2);
                pads(n, 4);
                autoPad(n);
                if (n.getInt("group", 1) < 1) throw bad(n, "attribute 'group' = " + n.getInt("group", 1) + " must be >= 1");
            }
            case "ConvTranspose" -> {
                inputs(n, 2, 3);
                positive(n, "kernel_shape", n.getIntArray("kernel_shape", null), 2);
                positive(n, "strides", n.getIntArray("strides", null), 2);
                positive(n, "dilations", n.getIntArray("dilations", null), 2);
                pads(n, 4);
                autoPad(n);
                int[] op = n.getIntArray("output_padding", null);
                if (op != null && (op.length != 2 || op[0] < 0 || op[1] < 0)) {
                    throw bad(n, "attribute 'output_padding' = " + Arrays.toString(op) + " must be 2 values >= 0");
                }
                int[] os = n.getIntArray("output_shape", null);
                if (os != null && (os.length != 2 || os[0] < 1 || os[1] < 1)) {
                    throw bad(n, "attribute 'output_shape' = " + Arrays.toString(os) + " must be 2 values >= 1 (H, W)");
                }
                if (n.getInt("group", 1) < 1) throw bad(n, "attribute 'group' must be >= 1");
            }
            case "MaxPool" -> {
                pool(n, true);
                if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
                    if (n.getInt("storage_order", 0) != 0) throw bad(n, "attribute 'storage_order' = 1 (column-major indices) is not supported");
                }
            }
            case "AveragePool" -> {
                pool(n, true);
                long c = n.getInt("count_include_pad", 0);
                if (c != 0 && c != 1) throw bad(n, "attribute 'count_include_pad' = " + c + ", expected 0 or 1");
            }
            case "LpPool" -> {
                pool(n, true);
                if (n.getInt("p", 2) != 2) throw bad(n, "attribute 'p' = " + n.getInt("p", 2) + " is not supported (only p = 2)");
            }
            case "MaxUnpool" -> {
                inputs(n, 2, 3);
                int[] k = n.getIntArray("kernel_shape", null);
                if (k == null) throw bad(n, "attribute 'kernel_shape' is required");
                positive(n, "kernel_shape", k, 2);
                positive(n, "strides", n.getIntArray("strides", null), 2);
                pads(n, 4);
            }
            case "GlobalAveragePool", "GlobalMaxPool", "Relu", "Sigmoid", "Tanh", "Softplus", "Mish", "HardSwish", "Identity",
                    "Shape", "Cast", "ConstantOfShape", "Flatten", "Transpose" -> {
                inputs(n, 1, 1);
                if (n.opType().equals("Cast")) {
                    long to = n.getInt("to", -1);
                    if (OnnxTensors.dtypeOf((int) to) == null) {
                        throw bad(n, "attribute 'to' = " + to + " (" + OnnxTensors.typeName((int) to) + ") is not a supported element type");
                    }
                }
                if (n.opType().equals("Shape") && (n.has("start") || n.has("end"))) {
                    // opset 15 start/end are supported by the executor
                    n.getInt("start", 0);
                    n.getInt("end", 0);
                }
            }
            case "BatchNormalization" -> {
                inputs(n, 5, 5);
                if (n.getInt("training_mode", 0) != 0) throw bad(n, "attribute 'training_mode' = 1 is not supported (inference only)");
                if (n.getFloat("epsilon", 1e-5f) < 0) throw bad(n, "attribute 'epsilon' must be >= 0");
            }
            case "LRN" -> {
                inputs(n, 1, 1);
                long size = n.getInt("size", -1);
                if (size < 1) throw bad(n, "attribute 'size' = " + size + " is required and must be >= 1");
            }
            case "Dropout" -> inputs(n, 1, 3);
            case "LeakyRelu", "Elu", "Selu", "HardSigmoid" -> {
                inputs(n, 1, 1);
                n.getFloat("alpha", 0f);
                n.getFloat("gamma", 0f);
                n.getFloat("beta", 0f);
            }
            case "PRelu" -> inputs(n, 2, 2);
            case "Clip" -> {
                inputs(n, 1, 3);
                n.getFloat("min", 0f);
                n.getFloat("max", 0f);
            }
            case "Softmax", "LogSoftmax" -> {
                inputs(n, 1, 1);
                n.getInt("axis", -1);
            }
            case "Gemm" -> {
                inputs(n, 2, 3);
                n.getFloat("alpha", 1f);
                n.getFloat("beta", 1f);
                for (String a : new String[] {"transA", "transB"}) {
                    long v = n.getInt(a, 0);
                    if (v != 0 && v != 1) throw bad(n, "attribute '" + a + "' = " + v + ", expected 0 or 1");
                }
            }
            case "MatMul", "Add", "Sub", "Mul", "Div" -> inputs(n, 2, 2);
            case "Sum" -> inputs(n, 1, Integer.MAX_VALUE);
            case "Concat" -> {
                inputs(n, 1, Integer.MAX_VALUE);
                if (!n.has("axis")) throw bad(n, "attribute 'axis' is required");
                n.getInt("axis", 0);
            }
            case "Reshape" -> {
                inputs(n, 2, 2);
                if (n.getInt("allowzero", 0) != 0) throw bad(n, "attribute 'allowzero' = 1 is not supported");
            }
            case "Squeeze", "Unsqueeze" -> {
                inputs(n, 1, 2);
                n.getInts("axes", null);
                if (n.opType().equals("Unsqueeze") && !n.has("axes") && !n.hasInput(1)) throw bad(n, "needs axes (attribute or input)");
            }
            case "Gather" -> {
                inputs(n, 2, 2);
                n.getInt("axis", 0);
            }
            case "Slice" -> {
                inputs(n, 1, 5);
                if (!n.hasInput(1) && !n.has("starts")) throw bad(n, "needs 'starts' and 'ends' (inputs or attributes)");
            }
            case "Constant" -> {
                if (n.attributes().size() != 1) throw bad(n, "must have exactly one value attribute, has " + n.attributes().keySet());
                var a = n.attributes().values().iterator().next();
                if (!Set.of("value", "value_float", "value_floats", "value_int", "value_ints").contains(a.name())) {
                    throw bad(n, "attribute '" + a.name() + "' is not supported (use value, value_float(s) or value_int(s))");
                }
            }
            case "Pad" -> {
                inputs(n, 1, 4);
                String mode = n.getString("mode", "constant");
                if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge")) {
                    throw bad(n, "attribute 'mode' = '" + mode + "', expected constant, reflect or edge");
                }
                if (n.hasInput(3)) throw bad(n, "the 'axes' input (opset 18) is not supported");
            }
            case "ReduceMean" -> {
                inputs(n, 1, 2);
                long k = n.getInt("keepdims", 1);
                if (k != 0 && k != 1) throw bad(n, "attribute 'keepdims' = " + k + ", expected 0 or 1");
                if (n.getInt("noop_with_empty_axes", 0) != 0) throw bad(n, "attribute 'noop_with_empty_axes' = 1 is not supported");
            }
            default -> throw bad(n, "is not supported");
        }
    }
}
