package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * {@link Conv2d#backwardData(ConvSpec, ConvAlgorithm, Tensor, Tensor, Tensor, Tensor)}: the input gradient with a
 * pending gradient added in the same call equals, bit for bit, the input gradient alone plus that addend — on every
 * path that adds it itself (Winograd's output pass, col2im plane by plane, per image and batched, strided and not) and
 * on the others, in float32 and float64; an addend sharing dx's memory is refused by name.
 */
class ConvInputGradAddendTest {
    @Test
    void smallAndGroupedLayers() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> sameAsAddingAfter(ConvTestSupport.spec(raw), seed, DType.F32));
    }

    @Test
    void winogradLayers() {
        qt().withExamples(30).forAll(ConvPropertiesTest.raws(), integers().between(16, 40), integers().between(16, 48),
                        integers().between(0, 1 << 20))
                .checkAssert((raw, c, k, seed) -> {
                    ConvSpec r = ConvTestSupport.winogradSpec(raw);
                    ConvSpec s = new ConvSpec(r.batch(), c, r.inH(), r.inW(), k, 3, 3, 1, 1, r.padTop(), r.padLeft(),
                            r.padBottom(), r.padRight(), 1, 1, 1);
                    ConvAlgorithm a = Conv2d.resolveBackwardData(ConvAlgorithm.AUTO, s.geom());
                    assertTrue(a == ConvAlgorithm.WINOGRAD_F2X3 || a == ConvAlgorithm.WINOGRAD_F4X3, a + " for " + s);
                    sameAsAddingAfter(s, seed, DType.F32);
                });
    }

    @Test
    void denseStridedLayersThroughCol2im() {
        qt().withExamples(30).forAll(integers().between(1, 4), integers().between(1, 40), integers().between(1, 40),
                        integers().between(0, 1 << 20))
                .checkAssert((n, c, k, seed) -> {
                    int hw = 5 + seed % 12, kernel = seed % 2 == 0 ? 3 : 1, pad = kernel / 2;
                    sameAsAddingAfter(new ConvSpec(n, c, hw, hw, k, kernel, kernel, 2, 2, pad, pad, pad, pad, 1, 1, 1), seed,
                            DType.F32);
                });
    }

    @Test
    void float64() {
        qt().withExamples(20).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> sameAsAddingAfter(ConvTestSupport.spec(raw), seed, DType.F64));
    }

    private static void sameAsAddingAfter(ConvSpec s, long seed, DType d) {
        try (Tensor dy = random(d, seed, s.outputShape()); Tensor w = random(d, seed + 1, s.weightShape());
             Tensor addend = random(d, seed + 2, s.inputShape()); Tensor dx = Tensor.zeros(d, s.inputShape());
             Tensor dxAdded = Tensor.zeros(d, s.inputShape())) {
            dxAdded.fill(Double.NaN); // every element must be written
            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, dx);
            Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, dxAdded, addend);
            if (d == DType.F32) {
                float[] alone = dx.toFloatArray(), add = addend.toFloatArray(), expected = new float[alone.length];
                for (int i = 0; i < alone.length; i++) expected[i] = alone[i] + add[i];
                assertArrayEquals(expected, dxAdded.toFloatArray(), "float32, " + s);
            } else {
                double[] alone = dx.toDoubleArray(), add = addend.toDoubleArray(), expected = new double[alone.length];
                for (int i = 0; i < alone.length; i++) expected[i] = alone[i] + add[i];
                assertArrayEquals(expected, dxAdded.toDoubleArray(), "float64, " + s);
            }
        }
    }

    private static Tensor random(DType d, long seed, int... shape) {
        return tessera.memory.RandomFill.uniform(Tensor.zeros(d, shape), seed, -1, 1);
    }

    @Test
    void anAddendSharingDxIsRefused() {
        ConvSpec s = new ConvSpec(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        try (Tensor dy = Tensor.zeros(DType.F32, s.outputShape()); Tensor w = Tensor.zeros(DType.F32, s.weightShape());
             Tensor dx = Tensor.zeros(DType.F32, s.inputShape())) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> Conv2d.backwardData(s, ConvAlgorithm.AUTO, dy, w, dx, dx)).getMessage();
            assertTrue(m.contains("addend") && m.contains("dx"), m);
        }
    }
}
