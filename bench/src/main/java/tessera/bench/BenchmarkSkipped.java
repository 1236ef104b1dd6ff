package tessera.bench;

/**
 * Thrown from a benchmark's {@code @Setup} when a parameter combination cannot run: a model file that is absent, an
 * algorithm that does not apply to a layer. JMH then records no result for the combination and logs the message;
 * {@code tessera bench kernels} lists it once as skipped, with the text after {@link #MARKER} as the reason.
 */
public final class BenchmarkSkipped extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The prefix of the message that marks a deliberate skip (anything else in a failed setup is a failure). */
    public static final String MARKER = "SKIPPED: ";

    public BenchmarkSkipped(String reason) {
        super(MARKER + reason, null, false, false); // no stack trace: a skip is not a bug
    }
}
