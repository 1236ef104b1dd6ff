package tessera.onnx.batching;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;
import tessera.onnx.batching.RejectedRequestException.Reason;
import tessera.onnx.infer.InferenceSession;

/**
 * Merges concurrent single requests into batched runs of one {@link InferenceSession} (dynamic batching).
 *
 * <p>{@link #submit} queues a request ({@code [n, C, H, W]}, usually n = 1) and returns a future at once. A dispatcher
 * thread forms a batch from the oldest waiting request and the requests behind it that have the same per-sample shape,
 * up to {@link BatcherOptions#maxBatch()} rows; it runs as soon as it is full, or when the oldest request has waited
 * {@link BatcherOptions#maxDelay()}, or at once while a batch is still running and requests piled up behind it. The
 * rows are copied into a preallocated off-heap batch tensor of the smallest bucket (1, 2, 4, …, maxBatch) that holds
 * them (the rest zero), the model runs once, and each request's rows are copied out of the batch output into its own
 * result. Inference is row-independent, so every request gets the same numbers as an unbatched run.
 *
 * <p>Each (bucket, concurrency slot) pair runs on its own long-lived thread holding its own buffers, so the session's
 * per-thread execution contexts are planned once per bucket and reused: no off-heap allocation per request.
 *
 * <p>Backpressure: at most {@link BatcherOptions#queueCapacity()} requests wait; beyond that {@code submit} returns a
 * future failed with {@link RejectedRequestException} ({@code QUEUE_FULL}). A request that has not started running by
 * its deadline fails with {@code DEADLINE_EXCEEDED}. Memory is bounded by the queue: no request is held anywhere else.
 *
 * <p>Futures complete on the batcher's run threads; use the {@code *Async} variants for slow follow-up work.
 * {@link #close()} stops accepting (later submits fail with {@code CLOSED}), runs every request already accepted
 * (subject to its deadline), frees the batch buffers and returns. It does not close the session.
 */
public final class DynamicBatcher implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final InferenceSession session;
    private final BatcherOptions options;
    private final BatchListener listener;
    private final int[] declared;
    private final boolean batchable;
    private final int maxRows;
    private final int[] buckets;
    private final List<String> outputNames;
    private final long maxDelayNanos;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final Lane[][] lanes;
    private final Map<Shape, int[][]> outputRowShapes = new HashMap<>();
    private final Thread dispatcher;
    private boolean closed;

    /** A per-sample shape (the input shape without its leading dimension) as a map key. */
    private record Shape(int[] dims) {
        @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
        @Override public int hashCode() { return Arrays.hashCode(dims); }
    }

    private static final class Request {
        final float[] data;
        final int rows;
        final Shape sample;
        final long enqueued;
        final long deadline;
        final CompletableFuture<BatchResult> future = new CompletableFuture<>();

        Request(float[] data, int rows, Shape sample, long enqueued, long deadline) {
            this.data = data;
            this.rows = rows;
            this.sample = sample;
            this.enqueued = enqueued;
            this.deadline = deadline;
        }
    }

    private record Batch(List<Request> requests, int rows, Shape sample, int slot) {}

    private static final Batch STOP = new Batch(List.of(), 0, null, -1);

    /** A batcher over {@code session} with {@link BatcherOptions#DEFAULT} settings. */
    public DynamicBatcher(InferenceSession session) { this(session, BatcherOptions.DEFAULT, BatchListener.NONE); }

    /**
     * A batcher over {@code session} (which must have one input; it stays owned by the caller and must outlive the
     * batcher). Batches only when the input's leading dimension is dynamic (-1); otherwise each request runs alone
     * with exactly the declared shape, still queued, bounded and with deadlines.
     */
    public DynamicBatcher(InferenceSession session, BatcherOptions options, BatchListener listener) {
        if (session.inputNames().size() != 1) {
            throw new IllegalArgumentException("dynamic batching needs a model with one input, this one has " + session.inputNames());
        }
        this.session = session;
        this.options = options;
        this.listener = listener == null ? BatchListener.NONE : listener;
        this.declared = session.declaredInputShape(0);
        if (declared.length < 1) throw new IllegalArgumentException("the model's input is a scalar; batching needs a leading batch dimension");
        this.batchable = declared[0] < 0;
        this.maxRows = batchable ? options.maxBatch() : declared[0];
        List<Integer> b = new ArrayList<>();
        if (batchable) {
            for (int s = 1; s < maxRows; s *= 2) b.add(s);
        }
        b.add(maxRows);
        this.buckets = b.stream().mapToInt(Integer::intValue).toArray();
        this.outputNames = List.copyOf(session.outputNames());
        this.maxDelayNanos = options.maxDelay().toNanos();
        this.lanes = new Lane[options.concurrency()][buckets.length];
        for (int s = 0; s < options.concurrency(); s++) freeSlots.add(s);
        this.dispatcher = Thread.ofPlatform().name("tessera-batcher-dispatch").daemon(true).unstarted(this::dispatchLoop);
        dispatcher.start();
    }

    public BatcherOptions options() { return options; }

    /** Whether requests are merged (the model's leading input dimension is dynamic). */
    public boolean batching() { return batchable; }

    /** Requests waiting to run. */
    public int queueDepth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** As {@link #submit(float[], int[], Duration)} with the default timeout. */
    public CompletableFuture<BatchResult> submit(float[] data, int... shape) { return submit(data, shape, options.timeout()); }

    /** Copies {@code x} (float32, any strides) and submits it with the default timeout; {@code x} may be closed at once. */
    public CompletableFuture<BatchResult> submit(Tensor x) {
        if (x.dtype() != DType.F32) throw new IllegalArgumentException("input must be a float32 tensor, got " + x.dtype());
        return submit(x.toFloatArray(), x.shape(), options.timeout());
    }

    /**
     * Queues one request. {@code shape} is the full input shape, {@code [n, …]}: n rows (n ≤ maxBatch), the rest
     * matching the model's declared input. {@code data} holds its elements row-major and is read when the batch runs,
     * not copied: don't modify it until the future completes.
     *
     * @return a future completed with the request's outputs, or failed with {@link RejectedRequestException} (queue
     *         full, deadline passed, batcher closed) or with the run's exception
     * @throws IllegalArgumentException when the shape or element count does not fit the model (nothing is queued)
     */
    public CompletableFuture<BatchResult> submit(float[] data, int[] shape, Duration timeout) {
        Shape sample = validate(data, shape);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
        admitShape(sample);
        long now = System.nanoTime();
        long t = timeout.toNanos();
        Request r = new Request(data, shape[0], sample, now, t > Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 + now : now + t);
        lock.lock();
        try {
            if (closed) {
                r.future.completeExceptionally(new RejectedRequestException(Reason.CLOSED, "the batcher is closed"));
            } else if (queue.size() >= options.queueCapacity()) {
                r.future.completeExceptionally(new RejectedRequestException(Reason.QUEUE_FULL,
                        "overloaded: " + queue.size() + " requests already waiting (queue capacity " + options.queueCapacity() + ")"));
            } else {
                queue.addLast(r);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        return r.future;
    }

    private Shape validate(float[] data, int[] shape) {
        if (data == null || shape == null) throw new IllegalArgumentException("data and shape must not be null");
        String name = session.inputNames().get(0);
        if (shape.length != declared.length) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(shape) + " has rank " + shape.length + ", the model's input '"
                    + name + "' is " + Arrays.toString(declared) + " (-1 = any size)");
        }
        long numel = 1;
        for (int d = 0; d < shape.length; d++) {
            boolean ok = shape[d] >= 1 && (d == 0 || declared[d] < 0 || declared[d] == shape[d]);
            if (!ok) {
                throw new IllegalArgumentException("input shape " + Arrays.toString(shape) + " does not match the model's input '" + name + "' "
                        + Arrays.toString(declared) + " (-1 = any size >= 1)");
            }
            numel *= shape[d];
        }
        if (batchable ? shape[0] > maxRows : shape[0] != maxRows) {
            throw new IllegalArgumentException(batchable
                    ? "a request of " + shape[0] + " rows exceeds the batcher's max batch " + maxRows
                    : "input shape " + Arrays.toString(shape) + " must have leading dimension " + maxRows + " (the model's fixed batch size)");
        }
        if (numel != data.length) {
            throw new IllegalArgumentException("input has " + data.length + " elements, shape " + Arrays.toString(shape) + " needs " + numel);
        }
        return new Shape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** Plans a new per-sample shape once (outside the lock) and checks that every output follows the batch dimension. */
    private void admitShape(Shape sample) {
        lock.lock();
        try {
            if (outputRowShapes.containsKey(sample)) return;
            if (outputRowShapes.size() >= options.maxInputShapes()) {
                throw new IllegalArgumentException("input shape [n, " + Arrays.toString(sample.dims).substring(1) + " is new and the batcher already serves "
                        + outputRowShapes.size() + " distinct shapes (maxInputShapes)");
            }
        } finally {
            lock.unlock();
        }
        int[][] rowShapes = new int[outputNames.size()][];
        int[] one = withRows(sample, batchable ? 1 : maxRows);
        for (int k = 0; k < rowShapes.length; k++) {
            int[] o1 = session.outputShape(k, one);
            if (batchable) {
                int[] o2 = session.outputShape(k, withRows(sample, 2));
                if (o1.length == 0 || o1[0] != 1 || o2[0] != 2) {
                    throw new IllegalArgumentException("model output '" + outputNames.get(k) + "' does not follow the input's batch dimension ("
                            + Arrays.toString(o1) + " for 1 row, " + Arrays.toString(o2) + " for 2); it cannot be batched");
                }
            }
            rowShapes[k] = o1.length == 0 ? o1 : Arrays.copyOfRange(o1, 1, o1.length);
        }
        lock.lock();
        try {
            if (!outputRowShapes.containsKey(sample) && outputRowShapes.size() < options.maxInputShapes()) outputRowShapes.put(sample, rowShapes);
        } finally {
            lock.unlock();
        }
    }

    private static int[] withRows(Shape sample, int rows) {
        int[] s = new int[sample.dims.length + 1];
        s[0] = rows;
        System.arraycopy(sample.dims, 0, s, 1, sample.dims.length);
        return s;
    }

    // ------------------------------------------------------------------ dispatcher

    private void dispatchLoop() {
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                long nextDeadline = expireOverdue(now);
                if (queue.isEmpty()) {
                    if (closed) return;
                    changed.awaitUninterruptibly();
                    continue;
                }
                if (freeSlots.isEmpty()) {
                    awaitUntil(nextDeadline, now);
                    continue;
                }
                Request head = queue.peekFirst();
                if (!batchable) {
                    queue.pollFirst();
                    handOff(List.of(head), head.rows, head.sample);
                    continue;
                }
                // rows that could join the head's batch, in arrival order; full when no more fit
                int rows = 0;
                boolean full = false;
                for (Request r : queue) {
                    if (!r.sample.equals(head.sample)) continue;
                    if (rows + r.rows > maxRows) {
                        full = true;
                        break;
                    }
                    rows += r.rows;
                }
                full |= rows == maxRows;
                long formBy = head.enqueued + maxDelayNanos;
                if (!full && !closed && now - formBy < 0) {
                    awaitUntil(Math.min(formBy, nextDeadline), now);
                    continue;
                }
                List<Request> batch = new ArrayList<>();
                int taken = 0;
                for (var it = queue.iterator(); it.hasNext(); ) {
                    Request r = it.next();
                    if (!r.sample.equals(head.sample)) continue;
                    if (taken + r.rows > maxRows) break;
                    it.remove();
                    batch.add(r);
                    taken += r.rows;
                }
                handOff(batch, taken, head.sample);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Fails queued requests whose deadline passed or whose future was completed by the caller; returns the next deadline. */
    private long expireOverdue(long now) {
        long next = Long.MAX_VALUE;
        for (var it = queue.iterator(); it.hasNext(); ) {
            Request r = it.next();
            if (r.future.isDone()) {
                it.remove();
            } else if (now - r.deadline >= 0) {
                it.remove();
                r.future.completeExceptionally(new RejectedRequestException(Reason.DEADLINE_EXCEEDED,
                        "deadline exceeded: waited " + TimeUnit.NANOSECONDS.toMillis(now - r.enqueued) + " ms in the queue without starting"));
            } else if (next == Long.MAX_VALUE || r.deadline - next < 0) {
                next = r.deadline;
            }
        }
        return next;
    }

    private void awaitUntil(long when, long now) {
        if (when == Long.MAX_VALUE) {
            changed.awaitUninterruptibly();
            return;
        }
        long wait = when - now;
        if (wait <= 0) return;
        try {
            changed.awaitNanos(wait);
        } catch (InterruptedException e) {
            // the dispatcher stops through close(), not interrupts
        }
    }

    /** Under the lock: gives the batch to the idle lane of its bucket on a free slot. */
    private void handOff(List<Request> batch, int rows, Shape sample) {
        int slot = freeSlots.pop();
        int bi = 0;
        while (buckets[bi] < rows) bi++;
        Lane lane = lanes[slot][bi];
        if (lane == null) {
            lane = new Lane(buckets[bi], slot);
            lanes[slot][bi] = lane;
        }
        lane.inbox.add(new Batch(batch, rows, sample, slot));
    }

    private void release(int slot) {
        lock.lock();
        try {
            freeSlots.push(slot);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ lanes

    /** One thread per (bucket, slot): owns the batch buffers, so the session's thread-local plan for its shape is reused. */
    private final class Lane {
        final int runRows;
        final BlockingQueue<Batch> inbox = new ArrayBlockingQueue<>(1);
        final Thread thread;
        Shape sample;
        Tensor input;
        final Tensor[] inputs = new Tensor[1];
        Tensor[] outputs;

        Lane(int runRows, int slot) {
            this.runRows = runRows;
            this.thread = Thread.ofPlatform().name("tessera-batcher-b" + runRows + "-" + slot).daemon(true).unstarted(this::loop);
            thread.start();
        }

        private void loop() {
            try {
                while (true) {
                    Batch b;
                    try {
                        b = inbox.take();
                    } catch (InterruptedException e) {
                        continue; // stops on STOP only
                    }
                    if (b == STOP) return;
                    try {
                        execute(b);
                    } finally {
                        release(b.slot);
                    }
                }
            } finally {
                freeBuffers();
                Workspace.releaseCurrentThread(); // this thread's kernel scratch: it runs no kernel any more
            }
        }

        private void freeBuffers() {
            if (input != null) input.close();
            if (outputs != null) for (Tensor t : outputs) t.close();
            input = null;
            outputs = null;
        }

        private void execute(Batch b) {
            int[] runShape = withRows(b.sample, batchable ? runRows : maxRows);
            long t0 = System.nanoTime();
            try {
                if (!b.sample.equals(sample)) {
                    freeBuffers();
                    input = Tensor.zeros(DType.F32, runShape);
                    inputs[0] = input;
                    outputs = new Tensor[outputNames.size()];
                    for (int k = 0; k < outputs.length; k++) outputs[k] = Tensor.zeros(DType.F32, session.outputShape(k, runShape));
                    sample = b.sample;
                }
                MemorySegment in = input.segment();
                long base = input.byteOffset();
                long rowElems = input.numel() / runShape[0];
                long at = 0;
                for (Request r : b.requests) {
                    MemorySegment.copy(r.data, 0, in, F32, base + at * 4, r.data.length);
                    at += r.data.length;
                }
                long end = (long) runShape[0] * rowElems;
                if (at < end) in.asSlice(base + at * 4, (end - at) * 4).fill((byte) 0);
                t0 = System.nanoTime();
                boolean single = tessera.kernels.ComputePool.beginJob(); // a second batch in flight runs on its own thread
                try {
                    session.run(inputs, outputs);
                } finally {
                    tessera.kernels.ComputePool.endJob(single);
                }
                long runNanos = System.nanoTime() - t0;
                int row = 0;
                for (Request r : b.requests) {
                    int[][] shapes = new int[outputs.length][];
                    float[][] data = new float[outputs.length][];
                    for (int k = 0; k < outputs.length; k++) {
                        Tensor o = outputs[k];
                        int[] os = o.shape();
                        long per = o.numel() / runShape[0];
                        os[0] = r.rows;
                        shapes[k] = os;
                        data[k] = new float[Math.toIntExact(per * r.rows)];
                        MemorySegment.copy(o.segment(), F32, o.byteOffset() + row * per * 4, data[k], 0, data[k].length);
                    }
                    row += r.rows;
                    r.future.complete(new BatchResult(outputNames, shapes, data));
                }
                listener.batchCompleted(b.requests.size(), b.rows, runShape[0], runNanos, false);
            } catch (RuntimeException | Error e) {
                for (Request r : b.requests) r.future.completeExceptionally(e);
                listener.batchCompleted(b.requests.size(), b.rows, runShape[0], System.nanoTime() - t0, true);
            }
        }
    }

    // ------------------------------------------------------------------ close

    /**
     * Stops accepting requests, runs every request already accepted (each still subject to its deadline), waits for
     * the running batches, stops the threads and frees the batch buffers. Idempotent; the session stays open.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        joinQuietly(dispatcher);
        lock.lock();
        try {
            while (freeSlots.size() < options.concurrency()) changed.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
        for (Lane[] row : lanes) {
            for (Lane l : row) {
                if (l == null || !l.thread.isAlive()) continue;
                l.inbox.offer(STOP);
                joinQuietly(l.thread);
            }
        }
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
