package tessera.gradcheck;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import tessera.layers.LayerSpec;

/**
 * One configuration of a layer to check: its type and raw arguments (as a model spec would hold them; arguments equal
 * to their defaults are left out), the per-sample input shape, the batch size, training or eval mode, and the seed of
 * the random weights, inputs and output weighting.
 */
public record LayerCase(String type, Map<String, Object> args, int[] inputShape, int batch, boolean training, long seed) {
    public LayerCase {
        args = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(args));
        inputShape = inputShape.clone();
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    }

    /** The layer spec of this case. */
    public LayerSpec spec() { return new LayerSpec(type, args); }

    /** [batch, inputShape...]. */
    public int[] batchShape() {
        int[] s = new int[inputShape.length + 1];
        s[0] = batch;
        System.arraycopy(inputShape, 0, s, 1, inputShape.length);
        return s;
    }

    /** Elements of the batch input. */
    public long inputSize() {
        long n = batch;
        for (int d : inputShape) n *= d;
        return n;
    }

    /** The arguments as a JSON object, e.g. {@code {"type": "Conv2d", "out_channels": 1, "kernel_size": [1]}}. */
    public String argsJson() {
        StringBuilder b = new StringBuilder("{\"type\": \"").append(type).append('"');
        for (Map.Entry<String, Object> e : args.entrySet()) {
            b.append(", \"").append(e.getKey()).append("\": ").append(json(e.getValue()));
        }
        return b.append('}').toString();
    }

    private static String json(Object v) {
        if (v instanceof String s) return '"' + s + '"';
        if (v instanceof int[] a) return Arrays.toString(a);
        if (v instanceof List<?> l) return l.stream().map(LayerCase::json).collect(Collectors.joining(", ", "[", "]"));
        return String.valueOf(v);
    }

    @Override
    public String toString() {
        return argsJson() + " input [N=" + batch + (inputShape.length == 0 ? "" : ", ")
                + Arrays.stream(inputShape).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + "]"
                + (training ? " train" : " eval") + " seed " + seed;
    }
}
