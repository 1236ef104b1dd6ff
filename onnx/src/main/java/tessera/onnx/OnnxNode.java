package tessera.onnx;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One operator application (immutable). Empty input names mean "optional input omitted". Its typed arguments
 * ({@link #args()}) are parsed once, on first use, by the operator's entry in {@link OnnxOps}; every interpreter
 * reads them instead of the raw attributes.
 */
public final class OnnxNode {
    private final String name, opType;
    private final List<String> inputs, outputs;
    private final Map<String, OnnxAttribute> attributes;
    private volatile OpArgs args;

    /**
     * @param name       node name (a generated one when the file has none)
     * @param opType     operator type, e.g. {@code Conv}
     * @param inputs     input value names
     * @param outputs    output value names
     * @param attributes attributes by name
     */
    public OnnxNode(String name, String opType, List<String> inputs, List<String> outputs, Map<String, OnnxAttribute> attributes) {
        this.name = name;
        this.opType = opType;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.attributes = Map.copyOf(attributes);
    }

    public String name() { return name; }
    public String opType() { return opType; }
    public List<String> inputs() { return inputs; }
    public List<String> outputs() { return outputs; }
    public Map<String, OnnxAttribute> attributes() { return attributes; }

    /**
     * The typed arguments of this node, parsed and checked once by {@link OnnxOps}.
     *
     * @throws OnnxFormatException naming the node and attribute when an attribute is invalid or the op is unknown
     */
    public OpArgs args() {
        OpArgs a = args;
        if (a == null) args = a = OnnxOps.parse(this);
        return a;
    }

    /** {@link #args()} as the expected record type. */
    public <T extends OpArgs> T args(Class<T> type) {
        OpArgs a = args();
        if (!type.isInstance(a)) throw new IllegalStateException(describe() + " has arguments " + a + ", not " + type.getSimpleName());
        return type.cast(a);
    }

    /** "node 'name' (OpType)" for messages. */
    public String describe() { return "node '" + name + "' (" + opType + ")"; }

    /** Input {@code k}, or "" when absent. */
    public String input(int k) { return k < inputs.size() ? inputs.get(k) : ""; }

    public boolean hasInput(int k) { return !input(k).isEmpty(); }

    public boolean has(String attr) { return attributes.containsKey(attr); }

    private OnnxAttribute attr(String attr, OnnxAttribute.Type type) {
        OnnxAttribute a = attributes.get(attr);
        if (a == null) return null;
        if (a.type() != type) {
            throw new OnnxFormatException(describe() + ": attribute '" + attr + "' has type " + a.type() + ", expected " + type);
        }
        return a;
    }

    public long getInt(String attr, long dflt) {
        OnnxAttribute a = attr(attr, OnnxAttribute.Type.INT);
        return a == null ? dflt : a.i();
    }

    public float getFloat(String attr, float dflt) {
        OnnxAttribute a = attr(attr, OnnxAttribute.Type.FLOAT);
        return a == null ? dflt : a.f();
    }

    public String getString(String attr, String dflt) {
        OnnxAttribute a = attr(attr, OnnxAttribute.Type.STRING);
        return a == null ? dflt : a.s();
    }

    /** INTS attribute, or {@code dflt} (may be null) when absent. */
    public long[] getInts(String attr, long[] dflt) {
        OnnxAttribute a = attr(attr, OnnxAttribute.Type.INTS);
        return a == null ? dflt : a.ints().clone();
    }

    /** INTS attribute as ints, each checked to fit an int. */
    public int[] getIntArray(String attr, int[] dflt) {
        long[] v = getInts(attr, null);
        if (v == null) return dflt;
        int[] r = new int[v.length];
        for (int k = 0; k < v.length; k++) {
            if (v[k] < Integer.MIN_VALUE || v[k] > Integer.MAX_VALUE) {
                throw new OnnxFormatException(describe() + ": attribute '" + attr + "' = " + Arrays.toString(v) + " has a value out of int range");
            }
            r[k] = (int) v[k];
        }
        return r;
    }

    public tessera.memory.Tensor getTensor(String attr) {
        OnnxAttribute a = attr(attr, OnnxAttribute.Type.TENSOR);
        return a == null ? null : a.t();
    }

    /** A copy with other inputs, outputs or attributes (used by graph rewrites). */
    public OnnxNode with(String newOpType, List<String> newInputs, List<String> newOutputs, Map<String, OnnxAttribute> newAttributes) {
        return new OnnxNode(name, newOpType, newInputs, newOutputs, newAttributes);
    }

    @Override
    public String toString() {
        return describe() + " " + inputs + " -> " + outputs + " " + attributes.values();
    }
}
