package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import tessera.memory.MemoryStats;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/** Off-heap memory stays flat over 10,000 inferences of one session (no leak per call, in either run form). */
class SessionMemoryFlatnessTest {
    @Test
    void tenThousandInferencesLeaveLiveOffHeapBytesUnchanged() throws Exception {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes("lenet5.onnx"), "lenet5", SessionOptions.DEFAULT);
             Tensor x = Fixtures.npy("lenet5.input.npy");
             Tensor y = Tensor.zeros(s.outputShape(0, x.shape()))) {
            for (int r = 0; r < 200; r++) s.run(x, y); // first calls size the workspaces
            try (Tensor warm = s.run(x)) {
                warm.numel();
            }
            long before = MemoryStats.liveBytes();
            for (int r = 0; r < 10_000; r++) {
                if (r % 2 == 0) {
                    s.run(x, y);
                } else {
                    try (Tensor out = s.run(x)) {
                        out.numel();
                    }
                }
            }
            assertEquals(before, MemoryStats.liveBytes(), "live off-heap bytes after 10,000 inferences");
        }
    }
}
