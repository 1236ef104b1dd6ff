package tessera.layers;

/** A model or layer spec a user can fix: the message says where (layer position and name) and what is wrong. */
public class SpecException extends IllegalArgumentException {
    public SpecException(String message) { super(tessera.memory.Messages.oneLine(message)); }

    public SpecException(String message, Throwable cause) { super(tessera.memory.Messages.oneLine(message), cause); }
}
