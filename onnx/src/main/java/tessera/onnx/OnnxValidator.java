package tessera.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tessera.memory.Tensor;

/**
 * Checks, before anything runs, that every operator is supported (one error lists every unsupported op type with
 * its node names) and that each node's attributes are valid (an error names the node, the attribute, the value and
 * what was expected). Both come from the operator table {@link OnnxOps}: parsing a node's typed arguments is the
 * attribute check.
 */
public final class OnnxValidator {
    /** Operators of the default domain that Tessera executes (opsets 1–18; older forms rewritten at load), from {@link OnnxOps}. */
    public static final Set<String> SUPPORTED = OnnxOps.supported();

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
        for (OnnxNode n : g.nodes()) n.args();
        for (OnnxNode n : g.nodes()) if (n.opType().equals("Dropout")) checkDropout(g, n);
    }

    /**
     * Dropout's {@code training_mode} input (opset 12+) must be known at load (an initializer or a Constant): false
     * is the identity, true zeroes random elements (training-mode dropout, planned by the inference engine).
     */
    private static void checkDropout(OnnxGraph g, OnnxNode n) {
        if (!n.hasInput(2) || constant(g, n.input(2)) != null) return;
        throw OpParsers.bad(n, "input 2 'training_mode' ('" + n.input(2) + "') is computed; Tessera needs it to be a constant "
                + "(an initializer or a Constant)");
    }

    /** The values of an initializer or Constant-node output, or null when the value is computed. */
    private static double[] constant(OnnxGraph g, String name) {
        Tensor t = g.initializers().get(name);
        if (t != null) return t.toDoubleArray();
        for (OnnxNode m : g.nodes()) {
            if (m.opType().equals("Constant") && m.outputs().get(0).equals(name)) {
                OpArgs.Constant c = m.args(OpArgs.Constant.class);
                return c.tensor() != null ? c.tensor().toDoubleArray() : c.values();
            }
        }
        return null;
    }
}
