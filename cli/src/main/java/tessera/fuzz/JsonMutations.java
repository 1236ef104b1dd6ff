package tessera.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware JSON mutations: a value replaced by one of the wrong type or an out-of-range number, a field
 * deleted, duplicated (as text: JSON parsers see the key twice) or renamed, an array element dropped or repeated,
 * deep nesting; control characters in strings.
 */
final class JsonMutations {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private JsonMutations() {}

    /** Mutates {@code text} (JSON) once; returns JSON text (possibly invalid on purpose, e.g. duplicate keys). */
    static String mutate(String text, Random rnd, String[] names) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (Exception e) {
            return text;
        }
        if (root == null) return text;
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        if (containers.isEmpty()) return rnd.nextBoolean() ? "{\"a\": " + text + "}" : "[" + text + "]";
        JsonNode c = containers.get(rnd.nextInt(containers.size()));
        if (rnd.nextInt(12) == 0) { // textual: a duplicated key or deep nesting
            return rnd.nextBoolean() ? duplicateKey(text, rnd) : deepNest(text, rnd);
        }
        if (c instanceof ObjectNode o && o.size() > 0) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(rnd.nextInt(keys.size()));
            switch (rnd.nextInt(6)) {
                case 0 -> o.remove(k);
                case 1 -> o.set(k + NpyTarget.pick(rnd, "_", "\n", "\u0000", ""), o.get(k).deepCopy());
                case 2 -> o.set(names[rnd.nextInt(names.length)], wrongValue(rnd, names));
                default -> o.set(k, wrongValue(rnd, names));
            }
        } else if (c instanceof ArrayNode a && a.size() > 0) {
            int i = rnd.nextInt(a.size());
            switch (rnd.nextInt(5)) {
                case 0 -> a.remove(i);
                case 1 -> a.insert(i, a.get(i).deepCopy());
                case 2 -> { for (int k = rnd.nextInt(100); k > 0; k--) a.add(a.get(i).deepCopy()); }
                default -> a.set(i, wrongValue(rnd, names));
            }
        } else if (c instanceof ObjectNode o) {
            o.set(names[rnd.nextInt(names.length)], wrongValue(rnd, names));
        } else if (c instanceof ArrayNode a) {
            a.add(wrongValue(rnd, names));
        }
        return root.toString();
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) out.add(n);
        for (JsonNode c : n) collect(c, out);
    }

    static JsonNode wrongValue(Random rnd, String[] names) {
        return switch (rnd.nextInt(14)) {
            case 0 -> F.textNode(NpyTarget.pick(rnd, "", "x", "F32", "\u0000\n\u001b[2J", "9".repeat(30), names[rnd.nextInt(names.length)]));
            case 1 -> F.booleanNode(rnd.nextBoolean());
            case 2 -> F.nullNode();
            case 3 -> F.numberNode(NpyTarget.pick(rnd, 0.5, -0.0, 1e308, -1e308, 3.0, Double.MIN_VALUE));
            case 4 -> F.numberNode(new java.math.BigInteger("9".repeat(1 + rnd.nextInt(60))));
            case 5 -> F.objectNode().put("type", names[rnd.nextInt(names.length)]);
            case 6 -> F.arrayNode().add(rnd.nextInt(5)).add(F.arrayNode());
            case 7 -> F.arrayNode();
            case 8 -> F.objectNode();
            default -> F.numberNode(rnd.nextBoolean() ? ByteMutations.interestingLong(rnd) : rnd.nextInt(7) - 2);
        };
    }

    private static String duplicateKey(String text, Random rnd) {
        int at = text.indexOf('{', rnd.nextInt(Math.max(1, text.length())));
        if (at < 0) at = text.indexOf('{');
        if (at < 0) return text;
        int q = text.indexOf('"', at);
        int colon = q < 0 ? -1 : text.indexOf("\":", q + 1);
        if (q < 0 || colon < 0) return text;
        String key = text.substring(q, colon + 2);
        return text.substring(0, at + 1) + key + NpyTarget.pick(rnd, "1,", "\"x\",", "[],", "{},") + text.substring(at + 1);
    }

    private static String deepNest(String text, Random rnd) {
        int depth = NpyTarget.pick(rnd, 100, 1000, 5000, 100_000);
        int at = text.indexOf(':', rnd.nextInt(Math.max(1, text.length())));
        if (at < 0) return "[".repeat(depth) + "]".repeat(depth);
        int end = at + 1;
        // replace the value after ':' by a deeply nested array or object
        String open = rnd.nextBoolean() ? "[" : "{\"a\":";
        String close = open.equals("[") ? "]" : "}";
        return text.substring(0, end) + open.repeat(depth) + "1" + close.repeat(depth) + "," + "\"zz\":" + text.substring(end);
    }
}
