package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.infer.DifferentiableGraph;

/**
 * Gradients of Σ Y⊙GY through imported models against PyTorch (tools/make_vjp_fixtures.py: float64 autograd in eval
 * mode, saved as float32), by initializer name. Error measure per tensor: max|a − b| / max(max|b|, 1e-6).
 * Tolerances: 1e-6 for the float64 reference path (the fixtures are float32 roundings of float64 results; measured
 * worst 5e-8), 1e-4 for
 * the float32 fast path (float32 accumulation over reductions of up to N·H·W = 2048 terms; measured worst 3e-6).
 */
class OnnxVjpParityTest {
    static final double TOL_F64 = 1e-6, TOL_F32 = 1e-4;

    static double normError(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        assertEquals(y.length, x.length, "element counts");
        double scale = 1e-6, err = 0;
        for (double v : y) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < x.length; i++) {
            double e = Math.abs(x[i] - y[i]);
            if (!(e <= err)) err = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        }
        return err / scale;
    }

    static OnnxGraph load(String name) { return OnnxLoader.parse(Fixtures.bytes(name), name, OnnxLimits.DEFAULT); }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "resnet_tiny", "inception_tiny", "se_block", "fcn_tiny", "op_unary", "op_binary", "op_reduce", "op_gelu",
            "op_l2norm", "op_lppool2d", "op_convtranspose_output_shape", "op_newops", "lraspp_tiny", "convnext_block"})
    void gradientsMatchPytorch(String model) {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double tol = dt == DType.F64 ? TOL_F64 : TOL_F32;
            List<String> report = new ArrayList<>();
            try (OnnxGraph g = load("vjp/" + model + ".onnx");
                 Tensor x = Fixtures.npy("vjp/" + model + ".input.npy");
                 Tensor gy = Fixtures.npy("vjp/" + model + ".grad_output.npy");
                 DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, dt);
                 Tensor ex = Fixtures.npy("vjp/" + model + ".grad/input.npy")) {
                double worst = normError(r.input(), ex);
                report.add("input " + worst);
                assertEquals(g.floatInitializerNames(), List.copyOf(r.initializers().keySet()));
                int nonZero = 0;
                for (Map.Entry<String, Tensor> e : r.initializers().entrySet()) {
                    try (Tensor ew = Fixtures.npy("vjp/" + model + ".grad/" + fileNameOf(e.getKey()))) {
                        double err = normError(e.getValue(), ew);
                        report.add(e.getKey() + " " + err);
                        worst = Math.max(worst, err);
                        for (double v : ew.toDoubleArray()) if (v != 0) { nonZero++; break; }
                    }
                }
                assertTrue(nonZero >= r.initializers().size() - 1, model + ": most reference gradients should be non-zero");
                System.out.println(model + " " + dt + " worst normalized error " + worst);
                assertTrue(worst <= tol, model + " " + dt + ": worst error " + worst + " > " + tol + "\n" + String.join("\n", report));
            }
        }
    }

    /** Central differences of L = Σ Y⊙GY in float64 at a few input coordinates, for single-operator fixtures. */
    @ParameterizedTest
    @ValueSource(strings = {"op_activations", "op_maxunpool", "op_softmax", "op_softmax_opset11", "op_transpose_slice", "op_concat_gather",
            "op_gemm", "op_matmul", "op_reduce_mean", "op_prelu", "op_lrn", "op_lppool", "op_avgpool_pad_exclude", "op_avgpool_ceil_include",
            "op_maxpool_ceil", "op_maxpool_dilation", "op_conv_group_dilation", "op_conv_asym", "op_convtranspose_group", "op_arith",
            "op_reshape_chain", "op_global_pools", "op_batchnorm", "op_mish_decomposed", "op_unary", "op_binary", "op_reduce", "op_gelu",
            "op_l2norm", "op_lppool2d", "op_convtranspose_output_shape", "op_newops", "convnext_block"})
    void inputGradientMatchesFiniteDifferences(String op) {
        try (OnnxGraph g = load(op + ".onnx");
             Tensor x32 = Fixtures.npy(op + ".input.npy");
             Tensor x = x32.to(DType.F64);
             Tensor y0 = Fixtures.npy(op + ".output.npy");
             Tensor gy = Tensor.zeros(DType.F64, y0.shape())) {
            Random rnd = new Random(op.hashCode());
            Tensor flatG = gy.reshape((int) gy.numel());
            for (int i = 0; i < gy.numel(); i++) flatG.set(rnd.nextGaussian(), i);
            try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
                assertTrue(normError(r.output(), y0) < 1e-5, op + ": forward output differs from PyTorch's");
                Tensor flatX = x.reshape((int) x.numel());
                double[] grad = r.input().toDoubleArray();
                double h = 1e-6;
                for (int t = 0; t < 6; t++) {
                    int i = rnd.nextInt((int) x.numel());
                    double v = flatX.getDouble(i);
                    flatX.set(v + h, i);
                    double lp = loss(g, x, gy);
                    flatX.set(v - h, i);
                    double lm = loss(g, x, gy);
                    flatX.set(v, i);
                    double fd = (lp - lm) / (2 * h);
                    assertTrue(Math.abs(fd - grad[i]) <= 1e-5 + 1e-3 * Math.abs(fd),
                            op + ": d/dx[" + i + "] analytic " + grad[i] + " vs finite difference " + fd);
                }
            }
        }
    }

    private static double loss(OnnxGraph g, Tensor x, Tensor gy) {
        try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, gy, DType.F64)) {
            double[] y = r.output().toDoubleArray(), w = gy.toDoubleArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += y[i] * w[i];
            return s;
        }
    }

    @Test
    void operatorWithoutDifferentiableMappingNamesTheNode() {
        // op_pad has a reflect-mode Pad, which vjp does not differentiate
        try (OnnxGraph g = load("op_pad.onnx"); Tensor x = Fixtures.npy("op_pad.input.npy"); Tensor y = Fixtures.npy("op_pad.output.npy")) {
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> DifferentiableGraph.vjp(g, x, y, DType.F32));
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().contains("(Pad)") && e.getMessage().contains("reflect"), e.getMessage());
        }
    }

    @Test
    void wrongGradOutputShapeIsAClearError() {
        try (OnnxGraph g = load("vjp/se_block.onnx"); Tensor x = Fixtures.npy("vjp/se_block.input.npy"); Tensor gy = Tensor.zeros(2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DifferentiableGraph.vjp(g, x, gy, DType.F32));
            assertTrue(e.getMessage().contains("grad-output has shape [2, 3]") && e.getMessage().contains("[2, 16, 16, 16]"), e.getMessage());
        }
    }

    /** The fixture file of an initializer's gradient (tools/make_vjp_fixtures.py: '/', '\\' and ':' become '_'). */
    static String fileNameOf(String name) {
        return name.replace('/', '_').replace('\\', '_').replace(':', '_') + ".npy";
    }
}
