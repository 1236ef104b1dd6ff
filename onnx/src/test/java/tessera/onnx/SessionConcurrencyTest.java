package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tessera.memory.MemoryStats;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.MemoryReport;
import tessera.onnx.infer.SessionOptions;

/** One shared session, many threads: results bit-identical to single-threaded runs; explicit release. */
class SessionConcurrencyTest {
    /** The contract exactly: 8 threads × 1,000 runs of one shared session (LeNet-5, batch 1–3). */
    @Test
    void eightThreadsTimesAThousandRunsOnOneSessionGiveSingleThreadedResults() throws Exception {
        assertSharedRunsIdentical("lenet5", 8, 1000);
    }

    /** The same on a ResNet-style net (folded batch norms, fused residual adds, Winograd and im2col convolutions). */
    @Test
    void eightThreadsShareOneResNetSessionWithIdenticalResults() throws Exception {
        assertSharedRunsIdentical("resnet_tiny", 8, 150);
    }

    private static void assertSharedRunsIdentical(String model, int threads, int runs) throws Exception {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes(model + ".onnx"), model, SessionOptions.DEFAULT);
             Tensor x = Fixtures.npy(model + ".input.npy")) {
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int b = 1; b <= 3; b++) inputs.add(x.narrow(0, 0, Math.min(b, x.dim(0))).copy());
            // Warm up single-threaded first so the reference is taken in steady state (compiled code), as a service
            // runs. (Kernels sum vector lanes in a fixed order — tessera.kernels.Lanes — because reduceLanes(ADD)
            // differed in the last bit between interpreted and compiled code.)
            for (int r = 0; r < 400; r++) {
                try (Tensor y = s.run(inputs.get(r % 3))) {
                    y.numel();
                }
            }
            for (Tensor xb : inputs) {
                try (Tensor y = s.run(xb)) {
                    expected.add(y.toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Integer>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> {
                        int checked = 0;
                        Tensor[] outs = new Tensor[inputs.size()];
                        for (int k = 0; k < outs.length; k++) outs[k] = Tensor.zeros(s.outputShape(0, inputs.get(k).shape()));
                        try {
                            for (int r = 0; r < runs; r++) {
                                int k = (id + r) % inputs.size();
                                s.run(inputs.get(k), outs[k]);
                                assertArrayEquals(expected.get(k), outs[k].toFloatArray(), model + " thread " + id + " run " + r);
                                checked++;
                            }
                        } finally {
                            for (Tensor o : outs) o.close();
                        }
                        return checked;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : fs) total += f.get();
                assertEquals(threads * runs, total);
            } finally {
                pool.shutdown();
            }
            for (Tensor t : inputs) t.close();
        }
    }

    @Test
    void memoryPlanReusesBuffersAndCloseReleasesEverything() {
        InferenceSession s = InferenceSession.load(Fixtures.bytes("resnet_tiny.onnx"), "resnet_tiny", SessionOptions.DEFAULT);
        MemoryReport r = s.memoryReport(new int[] {4, 3, 32, 32});
        assertTrue(r.activationBytes() < r.naiveActivationBytes(), r.toString());
        assertTrue(r.foldedBatchNorms() >= 9 && r.fusedResiduals() >= 3, r.toString());
        assertTrue(r.weightBytes() > 0, r.toString());
        try (Tensor x = Tensor.zeros(4, 3, 32, 32); Tensor y = s.run(x)) {
            assertArrayEquals(new int[] {4, 10}, y.shape());
        }
        long live = MemoryStats.liveBytes();
        s.close();
        s.close(); // idempotent
        long freed = live - MemoryStats.liveBytes();
        assertTrue(freed >= r.weightBytes() + r.activationBytes(), "close freed " + freed + " bytes; plan: " + r);
        try (Tensor x = Tensor.zeros(1, 3, 32, 32)) {
            assertThrows(IllegalStateException.class, () -> s.run(x));
        }
    }

    @Test
    void wrongInputShapeIsAClearError() {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes("lenet5.onnx"), "lenet5", SessionOptions.DEFAULT);
             Tensor x = Tensor.zeros(1, 1, 27, 28)) {
            var e = assertThrows(IllegalArgumentException.class, () -> s.run(x).close());
            assertTrue(e.getMessage().contains("input 'input'") && e.getMessage().contains("[1, 1, 27, 28]"), e.getMessage());
        }
    }
}
