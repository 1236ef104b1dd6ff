package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Every algorithm's forward, input gradient and weight/bias gradient overwrite their outputs: an output buffer
 * holding NaN before the call ends bit for bit as one holding zeros. Autograd hands these calls uninitialized
 * (recycled) memory, so a kernel that accumulated into its output would silently add a previous step's values.
 */
class ConvOverwritesOutputsTest {
    @Test
    void outputsDoNotDependOnWhatTheBufferHeld() {
        qt().withExamples(60).forAll(ConvPropertiesTest.raws(), integers().between(0, 1 << 20))
                .checkAssert((raw, seed) -> {
                    ConvSpec s = raw[5] % 2 == 0 ? ConvTestSupport.winogradSpec(raw) : ConvTestSupport.spec(raw);
                    try (Tensor x = ConvTestSupport.randomF32(seed, s.inputShape()); Tensor w = ConvTestSupport.randomF32(seed + 1, s.weightShape());
                         Tensor b = ConvTestSupport.randomF32(seed + 2, s.outChannels()); Tensor dy = ConvTestSupport.randomF32(seed + 3, s.outputShape())) {
                        for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                            assertArrayEquals(run(s, a, x, w, b, dy, 0f), run(s, a, x, w, b, dy, Float.NaN), a + " on " + s);
                        }
                    }
                });
    }

    /** y, dx, dw and db concatenated, computed into buffers first filled with {@code fill}. */
    private static float[] run(ConvSpec s, ConvAlgorithm a, Tensor x, Tensor w, Tensor b, Tensor dy, float fill) {
        try (Tensor y = Tensor.zeros(DType.F32, s.outputShape()); Tensor dx = Tensor.zeros(DType.F32, s.inputShape());
             Tensor dw = Tensor.zeros(DType.F32, s.weightShape()); Tensor db = Tensor.zeros(DType.F32, s.outChannels())) {
            y.fill(fill); dx.fill(fill); dw.fill(fill); db.fill(fill);
            Conv2d.forward(s, a, x, w, b, null, y);
            Conv2d.backwardData(s, a, dy, w, dx);
            Conv2d.backwardWeights(s, a, x, dy, dw, db);
            float[] ys = y.toFloatArray(), dxs = dx.toFloatArray(), dws = dw.toFloatArray(), dbs = db.toFloatArray();
            float[] all = new float[ys.length + dxs.length + dws.length + dbs.length];
            System.arraycopy(ys, 0, all, 0, ys.length);
            System.arraycopy(dxs, 0, all, ys.length, dxs.length);
            System.arraycopy(dws, 0, all, ys.length + dxs.length, dws.length);
            System.arraycopy(dbs, 0, all, ys.length + dxs.length + dws.length, dbs.length);
            return all;
        }
    }
}
