package tessera.layers;

/** Types of layer arguments in a model spec. */
public enum ArgType {
    /** A whole number. */
    INT,
    /** A real number (integers accepted). */
    DOUBLE,
    /** true / false. */
    BOOL,
    /** A string, optionally restricted to a set of choices. */
    STRING,
    /** A list of whole numbers; a single number n is accepted and repeated (e.g. kernel_size 3 → [3, 3]). */
    INTS,
    /** A list of layer specs (children of containers); a nested JSON array becomes a Sequential. */
    LAYERS
}
