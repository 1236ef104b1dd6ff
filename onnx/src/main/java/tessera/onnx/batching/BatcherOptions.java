package tessera.onnx.batching;

import java.time.Duration;

/**
 * Settings of a {@link DynamicBatcher}.
 *
 * @param maxBatch        most rows (images) merged into one run; a power of two or not, runs use the smallest bucket
 *                        (1, 2, 4, …, maxBatch) that holds the rows, padding the rest with zeros
 * @param maxDelay        how long the oldest waiting request may wait for others before its batch runs anyway
 * @param queueCapacity   most requests waiting to run; a submit beyond it is rejected at once ({@code QUEUE_FULL})
 * @param timeout         default deadline of a request: if it has not started running by then it is rejected
 *                        ({@code DEADLINE_EXCEEDED}); a request that started running always completes
 * @param concurrency     batches that may run at the same time (each with the session's intra-op threads); 1 suits a
 *                        session that uses every core
 * @param maxInputShapes  distinct per-sample input shapes accepted over the batcher's life (models with dynamic
 *                        height/width plan and keep one set of buffers per shape, so this bounds memory)
 */
public record BatcherOptions(int maxBatch, Duration maxDelay, int queueCapacity, Duration timeout, int concurrency, int maxInputShapes) {
    /** maxBatch 8, maxDelay 2 ms, queue 64, timeout 30 s, concurrency 1, 8 input shapes. */
    public static final BatcherOptions DEFAULT = new BatcherOptions(8, Duration.ofMillis(2), 64, Duration.ofSeconds(30), 1, 8);

    public BatcherOptions {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        if (maxBatch > 4096) throw new IllegalArgumentException("maxBatch must be <= 4096, got " + maxBatch);
        if (maxDelay == null || maxDelay.isNegative()) throw new IllegalArgumentException("maxDelay must be >= 0, got " + maxDelay);
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1, got " + queueCapacity);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
        if (concurrency < 1 || concurrency > 64) throw new IllegalArgumentException("concurrency must be in 1..64, got " + concurrency);
        if (maxInputShapes < 1) throw new IllegalArgumentException("maxInputShapes must be >= 1, got " + maxInputShapes);
    }

    public BatcherOptions withMaxBatch(int b) { return new BatcherOptions(b, maxDelay, queueCapacity, timeout, concurrency, maxInputShapes); }

    public BatcherOptions withMaxDelay(Duration d) { return new BatcherOptions(maxBatch, d, queueCapacity, timeout, concurrency, maxInputShapes); }

    public BatcherOptions withQueueCapacity(int q) { return new BatcherOptions(maxBatch, maxDelay, q, timeout, concurrency, maxInputShapes); }

    public BatcherOptions withTimeout(Duration t) { return new BatcherOptions(maxBatch, maxDelay, queueCapacity, t, concurrency, maxInputShapes); }

    public BatcherOptions withConcurrency(int c) { return new BatcherOptions(maxBatch, maxDelay, queueCapacity, timeout, c, maxInputShapes); }

    public BatcherOptions withMaxInputShapes(int n) { return new BatcherOptions(maxBatch, maxDelay, queueCapacity, timeout, concurrency, n); }
}
