package tessera.spark;

/** A row that cannot be scored (undecodable image, wrong number of values, null input); its message is the reason written to the error column. */
public final class BadRowException extends Exception {
    private static final long serialVersionUID = 1L;

    public BadRowException(String reason) { super(reason); }

    public BadRowException(String reason, Throwable cause) { super(reason, cause); }
}
