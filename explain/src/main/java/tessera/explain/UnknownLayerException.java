package tessera.explain;

import java.util.List;

/** A layer or node name the model does not have; the message lists every valid name in forward order. */
public final class UnknownLayerException extends IllegalArgumentException {
    private final List<String> valid;

    public UnknownLayerException(String what, String name, List<String> valid) {
        super("unknown " + what + " '" + name + "'; valid " + what + "s (" + valid.size() + "): " + String.join(", ", valid));
        this.valid = List.copyOf(valid);
    }

    /** The valid names, in forward order. */
    public List<String> valid() { return valid; }
}
