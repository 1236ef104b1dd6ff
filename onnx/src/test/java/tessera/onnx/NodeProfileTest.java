package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.NodeProfile;
import tessera.onnx.infer.SessionOptions;

class NodeProfileTest {

    @Test
    void profileListsEveryStepWithOpAndAlgorithmAndLeavesOutputsAsRunDoes() {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes("resnet_tiny.onnx"), "resnet_tiny", SessionOptions.DEFAULT);
             Tensor x = Fixtures.npy("resnet_tiny.input.npy");
             Tensor want = s.run(x);
             Tensor got = Tensor.zeros(want.shape())) {
            NodeProfile p = s.profile(new Tensor[] {x}, new Tensor[] {got}, 3);
            assertArrayEquals(want.toFloatArray(), got.toFloatArray(), "profiling computes the same outputs");
            assertEquals(3, p.runs());
            assertEquals(s.memoryReport(x.shape()).steps(), p.rows().size(), "one row per step");
            assertTrue(p.rows().stream().anyMatch(r -> r.op().startsWith("Conv") && !r.algorithm().isEmpty()),
                    "convolutions name their algorithm: " + p.rows());
            assertTrue(p.rows().stream().anyMatch(r -> r.op().contains("+Add") || r.op().contains("+Relu")),
                    "fused steps say what was fused: " + p.millisByOp().keySet());
            double pct = p.rows().stream().mapToDouble(NodeProfile.Row::percent).sum();
            assertEquals(100, pct, 1e-6);
            assertEquals(p.totalMillis(), p.millisByOp().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
            String table = p.table(5);
            assertTrue(table.contains("by op and algorithm") && table.lines().count() >= 8, table);
            assertThrows(IllegalArgumentException.class, () -> s.profile(new Tensor[] {x}, new Tensor[] {got}, 0));
        }
    }
}
