package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tessera.memory.MemoryStats;
import tessera.memory.Tensor;
import tessera.onnx.batching.BatchResult;
import tessera.onnx.batching.BatcherOptions;
import tessera.onnx.batching.DynamicBatcher;
import tessera.onnx.batching.RejectedRequestException;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/** Dynamic batching over a real session: per-request answers match unbatched runs, backpressure, deadlines, close. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DynamicBatcherTest {
    private static InferenceSession resnet;
    private static InferenceSession lenet;
    private static final int[] RESNET_ROW = {3, 32, 32};
    private static final int[] LENET_ROW = {1, 28, 28};

    @BeforeAll
    static void load() {
        resnet = InferenceSession.load(Fixtures.bytes("resnet_tiny.onnx"), "resnet_tiny", SessionOptions.DEFAULT);
        lenet = InferenceSession.load(Fixtures.bytes("lenet5.onnx"), "lenet5", SessionOptions.DEFAULT);
    }

    @AfterAll
    static void free() {
        resnet.close();
        lenet.close();
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static int[] shape(int rows, int[] row) {
        int[] s = new int[row.length + 1];
        s[0] = rows;
        System.arraycopy(row, 0, s, 1, row.length);
        return s;
    }

    private static int numel(int[] row) {
        int n = 1;
        for (int d : row) n *= d;
        return n;
    }

    /**
     * Batched and unbatched runs agree up to float rounding: a kernel may sum in another order at another batch size
     * (e.g. the GEMV path for at most 4 rows vs. GEMM). Any mix-up between requests is far larger than this bound.
     */
    static void assertClose(float[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - got[i]) <= 1e-5 * (1 + Math.abs(expected[i])))) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", unbatched " + expected[i]);
            }
        }
    }

    /** The unbatched answer: the session run alone on exactly this input. */
    private static float[] alone(InferenceSession s, float[] x, int[] shape) {
        try (Tensor t = Tensor.of(x, shape); Tensor y = s.run(t)) {
            return y.toFloatArray();
        }
    }

    @Test
    void requestsFromManyThreadsEachGetTheirOwnUnbatchedAnswer() throws Exception {
        int threads = 16, perThread = 6, n = numel(RESNET_ROW);
        AtomicInteger biggest = new AtomicInteger();
        AtomicInteger batches = new AtomicInteger();
        var opts = BatcherOptions.DEFAULT.withMaxBatch(8).withMaxDelay(Duration.ofMillis(5));
        float[][] inputs = new float[threads * perThread][];
        float[][] expected = new float[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = random(n, 1000 + i);
            expected[i] = alone(resnet, inputs[i], shape(1, RESNET_ROW));
        }
        float[][] got = new float[inputs.length][];
        try (var batcher = new DynamicBatcher(resnet, opts, (req, rows, runRows, nanos, failed) -> {
            biggest.accumulateAndGet(rows, Math::max);
            batches.incrementAndGet();
        })) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tid = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        for (int k = 0; k < perThread; k++) {
                            int i = tid * perThread + k;
                            got[i] = batcher.submit(inputs[i], shape(1, RESNET_ROW)).get(60, TimeUnit.SECONDS).data();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : ts) t.join();
            assertTrue(errors.isEmpty(), () -> "request failed: " + errors.get(0));
        }
        for (int i = 0; i < inputs.length; i++) assertClose(expected[i], got[i], "request " + i);
        assertTrue(biggest.get() > 1, "16 concurrent clients never shared a batch (largest batch " + biggest.get() + ")");
        assertTrue(batches.get() < inputs.length, "every request ran alone");
    }

    @Test
    void mixedRowCountsAndMaxBatchesMatchUnbatchedRuns() {
        int n = numel(LENET_ROW);
        qt().withExamples(25).withFixedSeed(7)
                .forAll(integers().between(1, 9), lists().of(integers().between(1, 4)).ofSizeBetween(1, 12))
                .checkAssert((maxBatch, rowsList) -> {
                    var opts = BatcherOptions.DEFAULT.withMaxBatch(Math.max(maxBatch, 4)).withMaxDelay(Duration.ofMillis(3));
                    List<CompletableFuture<BatchResult>> fs = new ArrayList<>();
                    List<float[]> xs = new ArrayList<>();
                    try (var b = new DynamicBatcher(lenet, opts, null)) {
                        for (int i = 0; i < rowsList.size(); i++) {
                            float[] x = random(n * rowsList.get(i), 31L * maxBatch + i);
                            xs.add(x);
                            fs.add(b.submit(x, shape(rowsList.get(i), LENET_ROW)));
                        }
                        for (int i = 0; i < fs.size(); i++) {
                            BatchResult r = join(fs.get(i));
                            assertArrayEquals(new int[] {rowsList.get(i), 10}, r.shape(0));
                            assertEquals("output", r.name(0));
                            assertClose(alone(lenet, xs.get(i), shape(rowsList.get(i), LENET_ROW)), r.data(), "request " + i + " of " + rowsList);
                        }
                    }
                });
    }

    private static BatchResult join(CompletableFuture<BatchResult> f) {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    private static RejectedRequestException.Reason rejection(CompletableFuture<BatchResult> f) throws Exception {
        return rejectionOf(f).reason();
    }

    /** The rejection f completes with (within 30 s). */
    private static RejectedRequestException rejectionOf(CompletableFuture<BatchResult> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RejectedRequestException, () -> "not a rejection: " + e.getCause());
        return (RejectedRequestException) e.getCause();
    }

    @Test
    void aFullQueueRejectsAtOnceAndCloseFinishesWhatWasAccepted() throws Exception {
        int n = numel(LENET_ROW);
        // a long max delay and a batch that never fills: accepted requests wait until close() flushes them
        var opts = BatcherOptions.DEFAULT.withMaxBatch(8).withMaxDelay(Duration.ofSeconds(60)).withQueueCapacity(3);
        var b = new DynamicBatcher(lenet, opts, null);
        List<CompletableFuture<BatchResult>> accepted = new ArrayList<>();
        List<float[]> xs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            xs.add(random(n, i));
            accepted.add(b.submit(xs.get(i), shape(1, LENET_ROW)));
        }
        CompletableFuture<BatchResult> over = b.submit(random(n, 9), shape(1, LENET_ROW));
        assertTrue(over.isDone(), "a submit beyond the queue capacity must be rejected at once");
        assertEquals(RejectedRequestException.Reason.QUEUE_FULL, rejection(over));
        assertEquals(3, b.queueDepth());
        for (var f : accepted) assertTrue(!f.isDone(), "accepted requests wait for the batch to fill or the delay to pass");
        b.close();
        for (int i = 0; i < 3; i++) assertClose(alone(lenet, xs.get(i), shape(1, LENET_ROW)), accepted.get(i).getNow(null).data(), "accepted request " + i);
        assertEquals(0, b.queueDepth());
        assertEquals(RejectedRequestException.Reason.CLOSED, rejection(b.submit(random(n, 5), shape(1, LENET_ROW))));
        b.close(); // idempotent
    }

    @Test
    void aRequestThatCannotStartBeforeItsDeadlineIsRejected() throws Exception {
        int n = numel(LENET_ROW);
        var opts = BatcherOptions.DEFAULT.withMaxBatch(8).withMaxDelay(Duration.ofSeconds(60));
        try (var b = new DynamicBatcher(lenet, opts, null)) {
            var f = b.submit(random(n, 1), shape(1, LENET_ROW), Duration.ofMillis(100));
            RejectedRequestException e = rejectionOf(f);
            assertEquals(RejectedRequestException.Reason.DEADLINE_EXCEEDED, e.reason());
            // not before its deadline: the batcher's own record of how long the request waited
            Matcher waited = Pattern.compile("waited (\\d+) ms").matcher(e.getMessage());
            assertTrue(waited.find() && Long.parseLong(waited.group(1)) >= 100, "rejected before its 100 ms deadline: " + e.getMessage());
            assertEquals(0, b.queueDepth(), "an expired request leaves the queue");
            // a per-request deadline shorter than the batcher's default applies too
            var g = b.submit(random(n, 2), shape(1, LENET_ROW), Duration.ofMillis(50));
            assertEquals(RejectedRequestException.Reason.DEADLINE_EXCEEDED, rejection(g));
        }
        // with a short max delay the same request starts in time and is answered
        try (var b = new DynamicBatcher(lenet, opts.withMaxDelay(Duration.ofMillis(1)), null)) {
            float[] x = random(n, 3);
            assertArrayEquals(alone(lenet, x, shape(1, LENET_ROW)), b.submit(x, shape(1, LENET_ROW), Duration.ofSeconds(30)).get(30, TimeUnit.SECONDS).data(),
                    "a batch of one runs exactly as the session alone");
        }
    }

    @Test
    void badInputsAreRefusedWithAReasonAndNothingIsQueued() {
        try (var b = new DynamicBatcher(lenet, BatcherOptions.DEFAULT.withMaxBatch(4), null)) {
            int n = numel(LENET_ROW);
            var rank = assertThrows(IllegalArgumentException.class, () -> b.submit(new float[n], 1, 28, 28));
            assertTrue(rank.getMessage().contains("rank 3"), rank.getMessage());
            var dims = assertThrows(IllegalArgumentException.class, () -> b.submit(new float[3 * 28 * 28], 1, 3, 28, 28));
            assertTrue(dims.getMessage().contains("does not match"), dims.getMessage());
            var rows = assertThrows(IllegalArgumentException.class, () -> b.submit(new float[5 * n], 5, 1, 28, 28));
            assertTrue(rows.getMessage().contains("exceeds the batcher's max batch 4"), rows.getMessage());
            var count = assertThrows(IllegalArgumentException.class, () -> b.submit(new float[n - 1], 1, 1, 28, 28));
            assertTrue(count.getMessage().contains("783 elements"), count.getMessage());
            assertEquals(0, b.queueDepth());
        }
    }

    @Test
    void batchBuffersAreReusedSoOffHeapMemoryStaysFlat() throws Exception {
        int n = numel(LENET_ROW);
        var opts = BatcherOptions.DEFAULT.withMaxBatch(4).withMaxDelay(Duration.ofMillis(1));
        try (var b = new DynamicBatcher(lenet, opts, null)) {
            float[] x = random(4 * n, 1);
            Runnable round = () -> {
                List<CompletableFuture<BatchResult>> fs = new ArrayList<>();
                for (int rows = 1; rows <= 4; rows++) fs.add(b.submit(java.util.Arrays.copyOf(x, rows * n), shape(rows, LENET_ROW)));
                for (var f : fs) join(f);
            };
            for (int i = 0; i < 100; i++) round.run(); // every bucket has run on its lane
            long before = MemoryStats.liveBytes();
            for (int i = 0; i < 600; i++) round.run();
            long grown = MemoryStats.liveBytes() - before;
            // a leak per request would be >= 2,400 x 3,136 input bytes; a compute-pool thread may still size its
            // scratch workspace once (lazily, when it first draws a larger share), which is bounded and not per request
            assertTrue(grown <= 1 << 20, "live off-heap bytes grew by " + grown + " over 2,400 batched requests");
            long settled = MemoryStats.liveBytes();
            for (int i = 0; i < 200; i++) round.run();
            assertTrue(MemoryStats.liveBytes() - settled <= 1 << 20, "live off-heap bytes keep growing");
        }
    }
}
