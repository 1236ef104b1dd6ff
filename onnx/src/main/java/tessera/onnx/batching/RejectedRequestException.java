package tessera.onnx.batching;

/** A request the {@link DynamicBatcher} did not run: its queue was full, its deadline passed, or the batcher closed. */
public final class RejectedRequestException extends RuntimeException {
    /** Why the request was not run. */
    public enum Reason {
        /** {@link BatcherOptions#queueCapacity()} requests were already waiting. */
        QUEUE_FULL,
        /** The request's deadline passed before it started running. */
        DEADLINE_EXCEEDED,
        /** The batcher was closed before the request was accepted. */
        CLOSED
    }

    private final Reason reason;

    public RejectedRequestException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
