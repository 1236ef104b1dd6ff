package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.onnx.OpTableWalkTest.floats;
import static tessera.onnx.OpTableWalkTest.ints;
import static tessera.onnx.OpTableWalkTest.node;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.DifferentiableGraph.Options;
import tessera.onnx.proto.OnnxProto.NodeProto;
import tessera.onnx.proto.OnnxProto.TensorProto;

/** Taps (value and gradient at an intermediate value), forward-only evaluation, and VJPs without initializer gradients. */
class DifferentiableGraphTapTest {
    private static final int[] SHAPE = {1, 2, 5, 5};

    /** x → Conv(w, 3×3, pad 1) → t → Mul(t, t) → y: so ∂(Σ y⊙gy)/∂t = 2·t⊙gy. */
    private static OnnxGraph convSquare() {
        List<NodeProto> nodes = List.of(node("Conv", List.of("x", "w"), "t", ints("pads", 1, 1, 1, 1)), node("Mul", List.of("t", "t"), "y"));
        TensorProto w = floats("w", -1, 1, 3, 2, 3, 3);
        var e = new OpTableWalkTest.Example(SHAPE, false, nodes, Map.of("w", w));
        return OnnxLoader.parse(OpTableWalkTest.model(e, null, false), "conv_square", OnnxLimits.DEFAULT);
    }

    private static Tensor input() {
        double[] v = new double[50];
        for (int i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.7) + 0.1 * i % 1.3;
        return Tensor.of(v, SHAPE);
    }

    private static Tensor gradOutput() {
        double[] v = new double[75];
        for (int i = 0; i < v.length; i++) v[i] = Math.cos(i * 0.3);
        return Tensor.of(v, 1, 3, 5, 5);
    }

    @Test
    void tapReturnsTheValueAndTheGradientArrivingThere() {
        try (OnnxGraph g = convSquare(); Tensor x = input(); Tensor gy = gradOutput();
             DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64, Options.DEFAULT.withTaps("t"))) {
            double[] t = r.tapped().get("t").toDoubleArray(), dt = r.tappedGradients().get("t").toDoubleArray();
            double[] y = r.output().toDoubleArray(), gv = gy.toDoubleArray();
            assertEquals(75, t.length);
            for (int i = 0; i < t.length; i++) {
                assertEquals(t[i] * t[i], y[i], 1e-12, "value at " + i);
                assertEquals(2 * t[i] * gv[i], dt[i], 1e-12, "gradient at " + i);
            }
        }
    }

    @Test
    void tappingChangesNoOtherResult() {
        try (OnnxGraph g = convSquare(); Tensor x = input(); Tensor gy = gradOutput();
             DifferentiableGraph.Gradients plain = DifferentiableGraph.vjp(g, x, gy, DType.F64);
             DifferentiableGraph.Gradients tapped = DifferentiableGraph.vjp(g, x, gy, DType.F64, Options.DEFAULT.withTaps("t", "x"))) {
            assertArrayEquals(plain.input().toDoubleArray(), tapped.input().toDoubleArray(), 0);
            assertArrayEquals(plain.initializers().get("w").toDoubleArray(), tapped.initializers().get("w").toDoubleArray(), 0);
            // tapping the graph input gives the input gradient itself
            assertArrayEquals(plain.input().toDoubleArray(), tapped.tappedGradients().get("x").toDoubleArray(), 0);
        }
    }

    @Test
    void withoutInitializerGradientsTheInputGradientIsTheSame() {
        try (OnnxGraph g = convSquare(); Tensor x = input(); Tensor gy = gradOutput();
             DifferentiableGraph.Gradients plain = DifferentiableGraph.vjp(g, x, gy, DType.F64);
             DifferentiableGraph.Gradients noW = DifferentiableGraph.vjp(g, x, gy, DType.F64, Options.DEFAULT.withoutInitializerGradients())) {
            assertArrayEquals(plain.input().toDoubleArray(), noW.input().toDoubleArray(), 0);
            assertTrue(noW.initializers().isEmpty());
        }
    }

    @Test
    void evaluateReturnsTheSameValuesAsTheVjpForwardPass() {
        try (OnnxGraph g = convSquare(); Tensor x = input(); Tensor gy = gradOutput();
             DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64, Options.DEFAULT.withTaps("t"));
             DifferentiableGraph.Values v = DifferentiableGraph.evaluate(g, x, DType.F64, Set.of("t"))) {
            assertArrayEquals(r.tapped().get("t").toDoubleArray(), v.values().get("t").toDoubleArray(), 0);
            assertArrayEquals(r.output().toDoubleArray(), v.output().toDoubleArray(), 0);
        }
    }

    @Test
    void unknownNamesAreRefusedWithTheInputName() {
        try (OnnxGraph g = convSquare(); Tensor x = input(); Tensor gy = gradOutput()) {
            var e = assertThrows(IllegalArgumentException.class, () -> DifferentiableGraph.vjp(g, x, gy, DType.F64, Options.DEFAULT.withTaps("nope")));
            assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains("'x'"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> DifferentiableGraph.evaluate(g, x, DType.F64, Set.of("w")));
            assertTrue(e2.getMessage().contains("'w'"), e2.getMessage());
        }
    }
}
