package tessera.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks, before anything runs, that every operator is supported (one error lists every unsupported op type with
 * its node names) and that each node's attributes are valid (an error names the node, the attribute, the value and
 * what was expected). Both come from the operator table {@link OnnxOps}: parsing a node's typed arguments is the
 * attribute check.
 */
public final class OnnxValidator {
    /** Operators of the default domain that Tessera executes (opsets 9–18), from {@link OnnxOps}. */
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
    }
}
