package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * A session closed while requests are running: every request either completes with the single-threaded answer
 * (bit for bit) or fails with {@code IllegalStateException("InferenceSession is closed")} — never another
 * exception, a wrong answer or a crash of the JVM — and every call after close fails that way.
 */
class SessionCloseWhileRunningTest {
    private static final int THREADS = 6;

    @Test
    void closingWhileRequestsRunGivesRightAnswersOrAClearException() throws Exception {
        byte[] model = Fixtures.bytes("lenet5.onnx");
        List<float[]> expected = new ArrayList<>();
        List<Tensor> inputs = new ArrayList<>();
        try (Tensor x = Fixtures.npy("lenet5.input.npy")) {
            for (int b = 1; b <= 3; b++) inputs.add(x.narrow(0, 0, Math.min(b, x.dim(0))).copy());
        }
        try (InferenceSession ref = InferenceSession.load(model, "lenet5", SessionOptions.DEFAULT)) {
            for (int r = 0; r < 300; r++) ref.run(inputs.get(r % 3)).close(); // steady state (compiled code), as in SessionConcurrencyTest
            for (Tensor xb : inputs) {
                try (Tensor y = ref.run(xb)) {
                    expected.add(y.toFloatArray());
                }
            }
        }
        Random rnd = new Random(18);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long completed = 0, refused = 0;
        try {
            for (int round = 0; round < 12; round++) {
                InferenceSession s = InferenceSession.load(model, "lenet5", SessionOptions.DEFAULT);
                CountDownLatch started = new CountDownLatch(THREADS);
                List<Future<long[]>> fs = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> hammer(s, inputs, expected, id, started)));
                }
                started.await();
                Thread.sleep(rnd.nextInt(40)); // close at a random point: in planning, mid-run, between runs
                s.close();
                for (Future<long[]> f : fs) {
                    long[] r = f.get(60, TimeUnit.SECONDS);
                    completed += r[0];
                    refused += r[1];
                }
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.run(inputs.get(0)));
                assertEquals("InferenceSession is closed", e.getMessage());
                assertThrows(IllegalStateException.class, () -> s.outputShape(0, inputs.get(1).shape()));
                assertThrows(IllegalStateException.class, () -> s.run(Map.of(s.inputNames().get(0), inputs.get(2))));
                s.close(); // idempotent
            }
        } finally {
            pool.shutdownNow();
            for (Tensor t : inputs) t.close();
        }
        assertTrue(completed > 0, "no request completed before close in any round");
        assertEquals(12L * THREADS, refused, "every thread must have been refused once after close");
    }

    /** Runs requests (three entry points, three batch sizes) until the session refuses; returns {completed, refused}. */
    private static long[] hammer(InferenceSession s, List<Tensor> inputs, List<float[]> expected, int id, CountDownLatch started) {
        long done = 0;
        started.countDown();
        for (int r = 0; ; r++) {
            int k = (id + r) % inputs.size();
            try {
                float[] got;
                switch ((id + r) % 3) {
                    case 0 -> {
                        try (Tensor y = s.run(inputs.get(k))) {
                            got = y.toFloatArray();
                        }
                    }
                    case 1 -> {
                        Map<String, Tensor> out = s.run(Map.of(s.inputNames().get(0), inputs.get(k)));
                        Tensor y = out.values().iterator().next();
                        got = y.toFloatArray();
                        for (Tensor o : out.values()) o.close();
                    }
                    default -> {
                        try (Tensor y = Tensor.zeros(s.outputShape(0, inputs.get(k).shape()))) {
                            s.run(inputs.get(k), y);
                            got = y.toFloatArray();
                        }
                    }
                }
                assertArrayEquals(expected.get(k), got, "thread " + id + " request " + r + " (batch " + (k + 1) + ")");
                done++;
            } catch (IllegalStateException e) {
                assertEquals("InferenceSession is closed", e.getMessage(), "thread " + id + " request " + r);
                return new long[] {done, 1};
            }
        }
    }
}
