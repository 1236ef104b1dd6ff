package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.kernels.conv.ConvTestSupport.U;
import static tessera.kernels.conv.ConvTestSupport.abs64;
import static tessera.kernels.conv.ConvTestSupport.randomF32;

import org.junit.jupiter.api.Test;

import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Measures Winograd's numerical error against the float64 reference on ResNet-like channel counts and prints it
 * (max |err| / max Σ|terms|, also in units of u = 2⁻²⁴) beside direct's and im2col's; asserts the documented floors of
 * {@link ConvPropertiesTest#WINOGRAD_F2_TOL} / {@link ConvPropertiesTest#WINOGRAD_F4_TOL}.
 */
class ConvWinogradErrorTest {
    @Test
    void winogradErrorStaysWithinTheDocumentedBound() {
        int[][] shapes = {{16, 16, 14}, {64, 64, 14}, {128, 64, 9}, {256, 32, 8}};
        for (int[] sh : shapes) {
            ConvSpec s = new ConvSpec(1, sh[0], sh[2], sh[2], sh[1], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
            try (Tensor x = randomF32(11, s.inputShape()); Tensor w = randomF32(12, s.weightShape());
                 Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor ax = abs64(x); Tensor aw = abs64(w);
                 Tensor ref = Tensor.zeros(DType.F64, s.outputShape()); Tensor abs = Tensor.zeros(DType.F64, s.outputShape())) {
                Conv2d.forward(s, ConvAlgorithm.AUTO, x64, w64, null, null, ref);
                Conv2d.forward(s, ConvAlgorithm.AUTO, ax, aw, null, null, abs);
                StringBuilder line = new StringBuilder("winograd error C=" + sh[0] + " K=" + sh[1] + " " + sh[2] + "x" + sh[2] + ":");
                for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.DIRECT, ConvAlgorithm.IM2COL,
                        ConvAlgorithm.WINOGRAD_F2X3, ConvAlgorithm.WINOGRAD_F4X3}) {
                    try (Tensor y = Tensor.zeros(DType.F32, s.outputShape())) {
                        Conv2d.forward(s, a, x, w, null, null, y);
                        double rel = ConvTestSupport.relError(y, ref, abs);
                        double inU = rel / U;
                        line.append(String.format(" %s %.3g (%.2f u);", a, rel, inU));
                        double bound = Math.max(ConvPropertiesTest.factor(a), (9.0 * sh[0] + 2));
                        assertTrue(inU <= bound, a + " error " + inU + " u exceeds " + bound + " u for " + s);
                    }
                }
                System.out.println(line);
            }
        }
    }

    /**
     * The Winograd weight gradient ({@link F32WinogradWeightGrad}) against the float64 reference, beside the
     * implicit-GEMM one (IM2COL), as max |err| / max Σ|terms|, on batches whose reduction spans many tiles.
     */
    @Test
    void winogradWeightGradientErrorStaysWithinTheDocumentedBound() {
        int[][] shapes = {{16, 16, 14, 4}, {64, 64, 14, 2}, {32, 32, 32, 4}, {128, 64, 9, 2}, {256, 32, 8, 2}};
        for (int[] sh : shapes) {
            ConvSpec s = new ConvSpec(sh[3], sh[0], sh[2], sh[2], sh[1], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
            try (Tensor x = randomF32(21, s.inputShape()); Tensor dy = randomF32(22, s.outputShape());
                 Tensor x64 = x.to(DType.F64); Tensor dy64 = dy.to(DType.F64); Tensor ax = abs64(x); Tensor ady = abs64(dy);
                 Tensor ref = Tensor.zeros(DType.F64, s.weightShape()); Tensor abs = Tensor.zeros(DType.F64, s.weightShape())) {
                Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, x64, dy64, ref, null);
                Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, ax, ady, abs, null);
                StringBuilder line = new StringBuilder("winograd weight-gradient error C=" + sh[0] + " K=" + sh[1] + " "
                        + sh[2] + "x" + sh[2] + " N=" + sh[3] + ":");
                for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.IM2COL, ConvAlgorithm.WINOGRAD_F2X3,
                        ConvAlgorithm.WINOGRAD_F4X3}) {
                    try (Tensor dw = Tensor.zeros(DType.F32, s.weightShape())) {
                        Conv2d.backwardWeights(s, a, x, dy, dw, null);
                        double rel = ConvTestSupport.relError(dw, ref, abs);
                        double inU = rel / U;
                        line.append(String.format(" %s %.3g (%.2f u);", a, rel, inU));
                        double bound = Math.max(ConvPropertiesTest.factor(a), (double) s.batch() * sh[2] * sh[2] + 2);
                        assertTrue(inU <= bound, a + " weight-gradient error " + inU + " u exceeds " + bound + " u for " + s);
                    }
                }
                System.out.println(line);
            }
        }
    }
}
