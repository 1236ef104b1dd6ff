package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tessera.memory.MemoryStats;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * Off-heap memory stays flat over many inferences of one session (no leak per call, in either run form): LeNet-5,
 * and the models whose operators are load-time rewrites (Split, Tile, Expand, DepthToSpace/SpaceToDepth,
 * InstanceNormalization, LayerNormalization, Resize with computed sizes).
 */
class SessionMemoryFlatnessTest {
    @ParameterizedTest
    @CsvSource({"lenet5, 10000", "op_newops, 4000", "convnext_block, 1000", "lraspp_tiny, 300"})
    void repeatedInferencesLeaveLiveOffHeapBytesUnchanged(String model, int runs) throws Exception {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes(model + ".onnx"), model, SessionOptions.DEFAULT);
             Tensor x = Fixtures.npy(model + ".input.npy");
             Tensor y = Tensor.zeros(s.outputShape(0, x.shape()))) {
            for (int r = 0; r < 200; r++) s.run(x, y); // first calls size the workspaces
            try (Tensor warm = s.run(x)) {
                warm.numel();
            }
            long before = MemoryStats.liveBytes();
            for (int r = 0; r < runs; r++) {
                if (r % 2 == 0) {
                    s.run(x, y);
                } else {
                    try (Tensor out = s.run(x)) {
                        out.numel();
                    }
                }
            }
            assertEquals(before, MemoryStats.liveBytes(), "live off-heap bytes after " + runs + " inferences of " + model);
        }
    }
}
