package tessera.kernels.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Output sizes against PyTorch's formula, validation messages, and values computed by PyTorch 1.13. */
class PoolSpecTest {

    /**
     * PyTorch's pooling_output_shape_pad_lr, written with real-valued floor/ceil: out = rnd((in + pads − eff) / s) + 1,
     * and in ceil mode a last window starting at or past in + padBefore is dropped.
     */
    private static int pytorchOut(int in, int k, int s, int padBefore, int padAfter, int d, boolean ceil) {
        double span = (double) in + padBefore + padAfter - ((double) d * (k - 1) + 1);
        int out = (int) (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
        if (ceil && (long) (out - 1) * s >= in + padBefore) out--;
        return out;
    }

    @Test
    void outputSizesEqualPyTorchFormula() {
        qt().withExamples(2000).forAll(lists().of(integers().between(0, 999)).ofSize(PoolCase.GENES), integers().between(0, 2))
                .checkAssert((g, t) -> {
                    PoolCase pc = PoolCase.decode(g, PoolType.values()[t]);
                    PoolSpec s = pc.spec();
                    // also inputs smaller than the window (padding makes up the difference) where valid
                    for (int h = 1; h <= pc.h(); h++) {
                        int expected = pytorchOut(h, s.kernelH(), s.strideH(), s.padTop(), s.padBottom(), s.dilationH(), s.ceilMode());
                        assertEquals(expected, s.outH(h), s + " inH=" + h);
                    }
                    for (int w = 1; w <= pc.w(); w++) {
                        int expected = pytorchOut(w, s.kernelW(), s.strideW(), s.padLeft(), s.padRight(), s.dilationW(), s.ceilMode());
                        assertEquals(expected, s.outW(w), s + " inW=" + w);
                    }
                    s.validate(pc.h(), pc.w());
                });
    }

    @Test
    void knownPyTorchSizes() {
        // torch.nn.functional.max_pool2d(torch.zeros(1,1,112,112), 3, 2, 1).shape == (1,1,56,56)
        assertEquals(56, PoolSpec.of(PoolType.MAX, 3, 2, 1).outH(112));
        // ceil mode: 5 -> 3 with k=2, s=2 (the last window starts inside the input)
        PoolSpec ceil = PoolSpec.of(PoolType.AVG, 2, 2, 2, 2, 0, 0, 1, 1, true, true);
        assertEquals(3, ceil.outW(5));
        // ceil mode where the extra window would start in the right padding: in=4, k=2, s=2, pad=1 -> 3 (not 4)
        PoolSpec dropped = PoolSpec.of(PoolType.MAX, 2, 2, 2, 2, 1, 1, 1, 1, true, true);
        assertEquals(3, dropped.outH(4));
    }

    private static void assertRejected(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e::run);
        for (String f : fragments) assertTrue(ex.getMessage().contains(f), "message '" + ex.getMessage() + "' should mention '" + f + "'");
    }

    interface Executable { void run(); }

    @Test
    void badDescriptorsAreRejectedWithClearMessages() {
        assertRejected(() -> new PoolSpec(PoolType.MAX, 0, 3, 1, 1, 0, 0, 0, 0, 1, 1, false, true), "kernel", "kernelH=0");
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, -1, 1, 1, 0, 0, 0, 0, 1, 1, false, true), "kernelW=-1");
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, 3, 0, 1, 0, 0, 0, 0, 1, 1, false, true), "stride", "strideH=0");
        assertRejected(() -> new PoolSpec(PoolType.AVG, 3, 3, 1, -2, 0, 0, 0, 0, 1, 1, false, true), "strideW=-2");
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, 3, 1, 1, 0, 0, 0, 0, 0, 1, false, true), "dilation", "dilationH=0");
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, 3, 1, 1, -1, 0, 0, 0, 1, 1, false, true), "padding", "padTop=-1");
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, 3, 1, 1, 0, 0, 0, 2, 1, 1, false, true), "padRight=2", "half", "kernelW=3");
        assertRejected(() -> new PoolSpec(PoolType.AVG, 2, 2, 1, 1, 2, 0, 0, 0, 1, 1, false, true), "padTop=2", "half");
        // dilation widens the window, and so the allowed padding (PyTorch: half of the effective kernel size)
        new PoolSpec(PoolType.MAX, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, false, true);
        assertRejected(() -> new PoolSpec(PoolType.MAX, 3, 3, 1, 1, 3, 0, 0, 0, 2, 2, false, true), "padTop=3", "dilationH=2");
        assertRejected(() -> new PoolSpec(null, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, false, true), "type");
        // the window must fit in the padded input
        assertRejected(() -> PoolSpec.of(PoolType.MAX, 5, 1, 1).validate(2, 9), "larger than the padded input", "5x5", "4x11");
        assertRejected(() -> PoolSpec.of(PoolType.MAX, 2, 1, 0).validate(0, 3), "inH=0");
        // a dilated window that starts in the padding can miss the input entirely
        PoolSpec gap = new PoolSpec(PoolType.MAX, 2, 1, 1, 1, 2, 0, 2, 0, 4, 1, false, true);
        assertRejected(() -> gap.validate(1, 3), "covers no input");
    }

    @Test
    void badTensorsAreRejectedWithClearMessages() {
        PoolSpec s = PoolSpec.of(PoolType.MAX, 2, 2, 0);
        try (Tensor x = Tensor.zeros(1, 2, 6, 8); Tensor y = Tensor.zeros(1, 2, 3, 4); Tensor yBad = Tensor.zeros(1, 2, 3, 5);
             Tensor y64 = Tensor.zeros(DType.F64, 1, 2, 3, 4); Tensor idx32 = Tensor.zeros(DType.I32, 1, 2, 3, 4);
             Tensor x3 = Tensor.zeros(2, 6, 8); Tensor idx = Tensor.zeros(DType.I64, 1, 2, 3, 4)) {
            assertRejected(() -> Pool2d.forward(s, x, yBad, null), "y", "[1, 2, 3, 5]", "[1, 2, 3, 4]");
            assertRejected(() -> Pool2d.forward(s, x, y64, null), "y", "F64", "F32");
            assertRejected(() -> Pool2d.forward(s, x, y, idx32), "indices", "I32", "I64");
            assertRejected(() -> Pool2d.forward(s, x3, y, null), "x", "rank 3");
            assertRejected(() -> Pool2d.forward(s, x.transpose(2, 3), y, null), "x", "contiguous");
            assertRejected(() -> Pool2d.forward(PoolSpec.of(PoolType.AVG, 2, 2, 0), x, y, idx), "indices must be null", "AVG");
            assertRejected(() -> Pool2d.forward(s, x.withLayout(tessera.memory.Layout.NHWC), y, null), "layout", "NHWC");
            idx.fill(48);
            assertRejected(() -> Pool2d.maxUnpool(y, idx, x), "indices", "48", "6x8");
            assertRejected(() -> Pool2d.backward(PoolSpec.of(PoolType.L2, 2, 2, 0), null, null, null, y, x), "x must not be null", "L2");
        }
    }

    // ---------------------------------------------------------------- values computed by PyTorch 1.13

    private static final float[] X = {-15, -13, -11, -9, -7, -5, -3, -1, 1, 3, 5, 7, 9, 11, 13, 15, 17, -16, -14, -12,
        -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10, 12, 14, 16, -17}; // shape [1,1,5,7]

    private static double[] run(PoolSpec s, DType type, int P, int Q, Tensor indices) {
        try (Tensor x32 = Tensor.of(X, 1, 1, 5, 7); Tensor x = x32.to(type); Tensor y = Tensor.zeros(type, 1, 1, P, Q)) {
            Pool2d.forward(s, x, y, indices);
            return y.toDoubleArray();
        }
    }

    @Test
    void matchesPyTorchValues() {
        for (DType type : new DType[] {DType.F32, DType.F64}) {
            // F.avg_pool2d(x, (3,2), (2,3), (1,1), ceil_mode=True, count_include_pad=True / False)
            PoolSpec cip = PoolSpec.of(PoolType.AVG, 3, 2, 2, 3, 1, 1, 1, 1, true, true);
            assertArrayEquals(new double[] {-2.6666667461395264, -2.0, 2.0, 0.6666666865348816, 0.5, 0.6666666865348816,
                -0.3333333432674408, 2.6666667461395264, 0.8333333134651184}, run(cip, type, 3, 3, null), 1e-6, "avg cip " + type);
            PoolSpec nocip = PoolSpec.of(PoolType.AVG, 3, 2, 2, 3, 1, 1, 1, 1, true, false);
            assertArrayEquals(new double[] {-8.0, -3.0, 3.0, 1.3333333730697632, 0.5, 0.6666666865348816, -1.0, 4.0, 1.25},
                    run(nocip, type, 3, 3, null), 1e-6, "avg no cip " + type);
            // F.max_pool2d(x, (3,2), (2,1), (1,1), dilation=(1,2), ceil_mode=True, return_indices=True)
            PoolSpec max = PoolSpec.of(PoolType.MAX, 3, 2, 2, 1, 1, 1, 1, 2, true, true);
            try (Tensor idx = Tensor.zeros(DType.I64, 1, 1, 3, 7)) {
                assertArrayEquals(new double[] {1, 3, 5, 7, 9, 11, 9, 15, 17, 15, 17, 9, 11, 9, 8, 10, 12, 14, 16, 14, 16},
                        run(max, type, 3, 7, idx), 0.0, "max " + type);
                assertArrayEquals(new double[] {8, 9, 10, 11, 12, 13, 12, 15, 16, 15, 16, 12, 13, 12, 29, 30, 31, 32, 33, 32, 33},
                        idx.toDoubleArray(), 0.0, "max indices " + type);
            }
            // F.lp_pool2d(x, 2, (2,3), (2,2))
            PoolSpec l2 = PoolSpec.of(PoolType.L2, 2, 3, 2, 2, 0, 0, 1, 1, false, true);
            assertArrayEquals(new double[] {22.934690475463867, 18.275667190551758, 18.275667190551758, 28.26658821105957,
                27.58622932434082, 21.44761085510254}, run(l2, type, 2, 3, null), 2e-5, "l2 " + type);
        }
    }
}
