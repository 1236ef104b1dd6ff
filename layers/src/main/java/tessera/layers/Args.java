package tessera.layers;

import java.util.List;
import java.util.Map;

/** Validated, typed arguments of one layer (every schema argument present or defaulted, except optional ones). */
public final class Args {
    private final String layerType;
    private final Map<String, Object> values;

    Args(String layerType, Map<String, Object> values) {
        this.layerType = layerType;
        this.values = values;
    }

    public boolean has(String name) { return values.get(name) != null; }

    public int getInt(String name) { return (Integer) get(name); }

    public double getDouble(String name) { return ((Number) get(name)).doubleValue(); }

    public boolean getBool(String name) { return (Boolean) get(name); }

    public String getString(String name) { return (String) get(name); }

    /** An INTS argument expanded to {@code n} values (a single value is repeated). */
    public int[] getInts(String name, int n) {
        int[] v = (int[]) get(name);
        if (v.length == n) return v.clone();
        if (v.length == 1) {
            int[] r = new int[n];
            java.util.Arrays.fill(r, v[0]);
            return r;
        }
        throw new SpecException(layerType + ": argument '" + name + "' has " + v.length + " values " + java.util.Arrays.toString(v)
                + ", expected 1 or " + n);
    }

    public int[] getInts(String name) { return ((int[]) get(name)).clone(); }

    @SuppressWarnings("unchecked")
    public List<LayerSpec> getLayers(String name) { return (List<LayerSpec>) get(name); }

    /** The validated values (for writing a spec back out). */
    public Map<String, Object> asMap() { return java.util.Collections.unmodifiableMap(values); }

    private Object get(String name) {
        if (!values.containsKey(name)) {
            throw new IllegalStateException(layerType + ": argument '" + name + "' is not in its schema");
        }
        Object v = values.get(name);
        if (v == null) throw new SpecException(layerType + ": optional argument '" + name + "' was not given");
        return v;
    }
}
