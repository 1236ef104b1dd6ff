package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.i;
import static tessera.onnx.OpTableWalkTest.longs;
import static tessera.onnx.OpTableWalkTest.node;
import static tessera.onnx.OpTableWalkTest.s;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/** Invalid uses of the rewritten operators fail at load or planning with the node's name, the attribute or input, and the shapes. */
class RewriteErrorsTest {
    private static String error(int[] shape, List<NodeProto> nodes, TensorProto... inits) {
        Map<String, TensorProto> m = new LinkedHashMap<>();
        for (TensorProto t : inits) m.put(t.getName(), t);
        OpTableWalkTest.Example e = new OpTableWalkTest.Example(shape, false, nodes, m);
        try (Tensor x = OpTableWalkTest.input(e)) {
            OnnxFormatException ex = assertThrows(OnnxFormatException.class, () -> {
                try (InferenceSession s = InferenceSession.load(OpTableWalkTest.model(e, x, false), "m", SessionOptions.DEFAULT); Tensor y = s.run(x)) {
                    y.numel();
                }
            });
            return ex.getMessage();
        }
    }

    private static void contains(String msg, String... parts) {
        for (String p : parts) assertTrue(msg.contains(p), "'" + p + "' missing from: " + msg);
    }

    @Test
    void depthToSpaceModeAndBlocksize() {
        contains(error(new int[] {1, 8, 2, 2}, List.of(node("DepthToSpace", List.of("x"), "y", i("blocksize", 2), s("mode", "RDC")))),
                "'depthtospace_y' (DepthToSpace)", "'mode' = 'RDC'");
        contains(error(new int[] {1, 8, 2, 2}, List.of(node("DepthToSpace", List.of("x"), "y"))),
                "'depthtospace_y' (DepthToSpace)", "'blocksize' = 0", "required");
        // 3 channels do not split into 2x2 blocks: the 6-D view's Reshape refuses, naming the node and the shapes
        contains(error(new int[] {1, 3, 2, 2}, List.of(node("DepthToSpace", List.of("x"), "y", i("blocksize", 2)))),
                "depthtospace_y#", "[1, 3, 2, 2]");
        contains(error(new int[] {1, 2, 3, 4}, List.of(node("SpaceToDepth", List.of("x"), "y", i("blocksize", 2)))),
                "spacetodepth_y#", "[1, 2, 3, 4]");
    }

    @Test
    void tileNeedsKnownRepeatsAndExpandCompatibleShapes() {
        contains(error(new int[] {2, 3}, List.of(node("Shape", List.of("x"), "r"), node("Tile", List.of("x", "r"), "y"))),
                "'tile_y' (Tile)", "input 'repeats' ('r')", "initializer or a Constant");
        contains(error(new int[] {2, 3}, List.of(node("Tile", List.of("x", "r"), "y")), longs("r", new long[] {2, -1}, 2)),
                "'tile_y' (Tile)", "[2, -1]", "negative");
        contains(error(new int[] {2, 3}, List.of(node("Expand", List.of("x", "es"), "y")), longs("es", new long[] {4, 1}, 2)),
                "'expand_y#where'", "[2, 3]", "[4, 1]");
        contains(error(new int[] {2, 3, 4}, List.of(node("InstanceNormalization", List.of("x", "sc", "b"), "y")),
                floats("sc", 1, 2, 4), floats("b", 0, 1, 3)), "instancenormalization_y#", "[4, 1]");
    }
}
