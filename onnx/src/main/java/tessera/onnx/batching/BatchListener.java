package tessera.onnx.batching;

/** Observes a {@link DynamicBatcher}'s runs (for metrics). Called on the batcher's run threads: keep it cheap. */
@FunctionalInterface
public interface BatchListener {
    BatchListener NONE = (requests, rows, runRows, runNanos, failed) -> {};

    /**
     * One batched run finished.
     *
     * @param requests requests merged into it
     * @param rows     rows (images) those requests held
     * @param runRows  rows the model ran on (the bucket: {@code rows} plus zero padding)
     * @param runNanos wall time of the model run
     * @param failed   whether the run threw (every request in it then failed with that exception)
     */
    void batchCompleted(int requests, int rows, int runRows, long runNanos, boolean failed);
}
