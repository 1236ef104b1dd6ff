package tessera.layers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model written by hand as JSON: a name, the per-sample input shape and the layers in order. Container layers
 * take nested lists of layers; a nested JSON array is a Sequential.
 * <pre>{@code
 * { "name": "lenet5", "input": [1, 28, 28],
 *   "layers": [
 *     {"type": "Conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2}, {"type": "ReLU"},
 *     {"type": "MaxPool2d", "kernel_size": 2},
 *     {"type": "Residual", "body": [{"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1}]},
 *     {"type": "Flatten"}, {"type": "Linear", "out_features": 10} ] }
 * }</pre>
 */
public record ModelSpec(String name, int[] input, List<LayerSpec> layers) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ModelSpec {
        if (input == null || input.length == 0) throw new SpecException("model spec '" + name + "': \"input\" (per-sample shape, e.g. [1, 28, 28]) is required");
        for (int d : input) if (d <= 0) throw new SpecException("model spec '" + name + "': input shape " + java.util.Arrays.toString(input) + " has a non-positive dimension");
        input = input.clone();
        layers = List.copyOf(layers);
    }

    /** Parses a JSON model spec; syntax errors carry the line and column. */
    public static ModelSpec parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SpecException("model spec is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() : ""));
        }
        if (root == null || !root.isObject()) throw new SpecException("model spec must be a JSON object with \"input\" and \"layers\"");
        String name = root.path("name").asText("model");
        JsonNode in = root.get("input");
        if (in == null || !in.isArray()) throw new SpecException("model spec '" + name + "': \"input\" must be an array such as [1, 28, 28]");
        int[] input = new int[in.size()];
        for (int i = 0; i < input.length; i++) {
            if (!in.get(i).canConvertToInt() || !in.get(i).isIntegralNumber()) throw new SpecException("model spec '" + name + "': input[" + i + "] is not a whole number");
            input[i] = in.get(i).asInt();
        }
        JsonNode ls = root.get("layers");
        if (ls == null || !ls.isArray()) throw new SpecException("model spec '" + name + "': \"layers\" must be an array of layer objects");
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < ls.size(); i++) {
            Object v = toJava(ls.get(i));
            layers.add(LayerRegistry.toSpec(v, "model spec '" + name + "': layers[" + i + "] "));
        }
        return new ModelSpec(name, input, layers);
    }

    public static ModelSpec read(Path file) throws IOException { return parse(Files.readString(file)); }

    /** This spec as pretty-printed JSON (parse(toJson()) gives an equal spec). */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("name", name);
        ArrayNode in = root.putArray("input");
        for (int d : input) in.add(d);
        ArrayNode ls = root.putArray("layers");
        for (LayerSpec l : layers) ls.add(toNode(l));
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode toNode(LayerSpec s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", s.type());
        for (Map.Entry<String, Object> e : s.args().entrySet()) o.set(e.getKey(), valueNode(e.getValue()));
        return o;
    }

    private static JsonNode valueNode(Object v) {
        if (v instanceof LayerSpec s) return toNode(s);
        if (v instanceof int[] a) {
            ArrayNode n = JSON.createArrayNode();
            for (int x : a) n.add(x);
            return n;
        }
        if (v instanceof List<?> l) {
            ArrayNode n = JSON.createArrayNode();
            for (Object x : l) n.add(valueNode(x));
            return n;
        }
        return JSON.valueToTree(v);
    }

    private static Object toJava(JsonNode n) {
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = n.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                m.put(e.getKey(), toJava(e.getValue()));
            }
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonNode c : n) l.add(toJava(c));
            return l;
        }
        if (n.isIntegralNumber()) return n.canConvertToLong() ? (Object) n.asLong() : n.asDouble();
        if (n.isNumber()) return n.asDouble();
        if (n.isBoolean()) return n.asBoolean();
        if (n.isNull()) return null;
        return n.asText();
    }
}
