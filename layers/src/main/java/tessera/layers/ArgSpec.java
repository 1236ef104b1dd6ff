package tessera.layers;

import java.util.List;

/**
 * One argument of a layer's schema: name, type, valid range, default and a one-line description. The schema drives
 * spec validation, error messages, {@code ./tessera layers} and the property-based gradient checks, which draw
 * configurations from {@code [sampleMin, sampleMax]} (a small sub-range of the valid one).
 *
 * @param defaultValue null when the argument is required (or, with {@code optional}, may be absent)
 * @param choices      allowed values of a STRING argument, or empty for any
 * @param length       for INTS: allowed list lengths (e.g. [1, 2] for kernel_size), empty for any
 */
public record ArgSpec(String name, ArgType type, Object defaultValue, boolean optional, double min, double max,
                      double sampleMin, double sampleMax, List<String> choices, List<Integer> length, String description) {

    public static ArgSpec required(String name, ArgType type, double min, double max, double sampleMin, double sampleMax, String description) {
        return new ArgSpec(name, type, null, false, min, max, sampleMin, sampleMax, List.of(), List.of(), description);
    }

    public static ArgSpec withDefault(String name, ArgType type, Object def, double min, double max, double sampleMin, double sampleMax, String description) {
        return new ArgSpec(name, type, def, false, min, max, sampleMin, sampleMax, List.of(), List.of(), description);
    }

    /** May be absent (e.g. in_channels, inferred from the input shape). */
    public static ArgSpec inferred(String name, ArgType type, double min, double max, String description) {
        return new ArgSpec(name, type, null, true, min, max, min, max, List.of(), List.of(), description);
    }

    public static ArgSpec flag(String name, boolean def, String description) {
        return new ArgSpec(name, ArgType.BOOL, def, false, 0, 1, 0, 1, List.of(), List.of(), description);
    }

    public static ArgSpec choice(String name, String def, List<String> choices, String description) {
        return new ArgSpec(name, ArgType.STRING, def, false, 0, 0, 0, 0, List.copyOf(choices), List.of(), description);
    }

    public static ArgSpec layers(String name, boolean optional, String description) {
        return new ArgSpec(name, ArgType.LAYERS, optional ? List.of() : null, false, 0, 0, 0, 0, List.of(), List.of(), description);
    }

    /** The same argument restricted to the given INTS list lengths. */
    public ArgSpec lengths(Integer... allowed) {
        return new ArgSpec(name, type, defaultValue, optional, min, max, sampleMin, sampleMax, choices, List.of(allowed), description);
    }

    public boolean required() { return defaultValue == null && !optional; }

    /** One line for listings: {@code kernel_size: INTS [1..64], required — window size}. */
    public String describe() {
        StringBuilder b = new StringBuilder(name).append(": ").append(type);
        if (type == ArgType.INT || type == ArgType.DOUBLE || type == ArgType.INTS) {
            b.append(" [").append(fmt(min)).append("..").append(fmt(max)).append(']');
        }
        if (!choices.isEmpty()) b.append(' ').append(choices);
        if (required()) b.append(", required");
        else if (optional) b.append(", optional");
        else b.append(", default ").append(defaultValue instanceof int[] a ? java.util.Arrays.toString(a) : defaultValue);
        return b.append(" — ").append(description).toString();
    }

    private static String fmt(double v) {
        if (v == Double.MAX_VALUE || v == Integer.MAX_VALUE) return "∞";
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
