package tessera.memory.io;

/**
 * A tensor file (.npy, IDX) is malformed: wrong magic, unsupported version or dtype, a header that lies about sizes,
 * truncated or trailing data. The message names the file part and the numbers involved.
 */
public class TensorFormatException extends IllegalArgumentException {
    public TensorFormatException(String message) { super(tessera.memory.Messages.oneLine(message)); }

    public TensorFormatException(String message, Throwable cause) { super(tessera.memory.Messages.oneLine(message), cause); }
}
