package tessera.layers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A layer as written in a model spec: its type name and raw arguments (Integer/Long/Double/Boolean/String values,
 * lists, or nested specs for LAYERS arguments). Validated against the provider's schema by {@link LayerRegistry}.
 */
public record LayerSpec(String type, Map<String, Object> args) {
    public LayerSpec {
        if (type == null || type.isBlank()) throw new SpecException("a layer spec needs a non-empty \"type\"");
        args = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(args));
    }

    public static LayerSpec of(String type, Object... keyValues) {
        if (keyValues.length % 2 != 0) throw new IllegalArgumentException("LayerSpec.of: key/value pairs expected");
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return new LayerSpec(type, m);
    }

    /** A copy with one argument added or replaced. */
    public LayerSpec with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(args);
        m.put(key, value);
        return new LayerSpec(type, m);
    }
}
