package tessera.layers.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import tessera.layers.init.Init.FanMode;
import tessera.layers.init.Init.Nonlinearity;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Initializer statistics on a large convolution weight [256, 128, 3, 3] (294,912 draws; fan_in 1152, fan_out 2304).
 * Tolerances: the sample variance must be within 2% of the target — its relative standard error is √(2/n) ≈ 0.26%
 * for normal draws and ≈ 0.17% for uniform ones, so 2% is over 7 standard errors; the sample mean within 6 standard
 * errors of 0; uniform draws must all lie within ±bound and reach beyond 0.999·bound (the chance that 294,912
 * draws all stay inside 0.999·bound is e^-147).
 */
class InitTest {
    static final int[] SHAPE = {256, 128, 3, 3};
    static final long FAN_IN = 128 * 9, FAN_OUT = 256 * 9;

    @Test
    void fansOfConvolutionAndLinearWeights() {
        assertEquals(new Init.Fans(3 * 5 * 5, 10 * 5 * 5), Init.fans(10, 3, 5, 5));
        // grouped convolution: C = 8, g = 4 → weight [K=16, C/g=2, 3, 3]
        assertEquals(new Init.Fans(2 * 9, 16 * 9), Init.fans(16, 2, 3, 3));
        assertEquals(new Init.Fans(20, 10), Init.fans(10, 20));
        assertEquals(new Init.Fans(4 * 7, 6 * 7), Init.fans(6, 4, 7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Init.fans(5));
        assertTrue(e.getMessage().contains("[5]") && e.getMessage().contains("at least 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Init.fans(3, -1));
    }

    @Test
    void gainsMatchCalculateGain() {
        assertEquals(Math.sqrt(2), Init.gain(Nonlinearity.RELU), 0);
        assertEquals(5.0 / 3, Init.gain(Nonlinearity.TANH), 0);
        assertEquals(1.0, Init.gain(Nonlinearity.LINEAR), 0);
        assertEquals(1.0, Init.gain(Nonlinearity.SIGMOID), 0);
        assertEquals(Math.sqrt(2 / (1 + 0.2 * 0.2)), Init.gain(Nonlinearity.LEAKY_RELU, 0.2), 1e-15);
        assertEquals(Math.sqrt(2 / (1 + 0.0001)), Init.gain(Nonlinearity.LEAKY_RELU), 1e-15);
        assertEquals(Math.sqrt(1.0 / 3), Init.gain(Nonlinearity.LEAKY_RELU, Math.sqrt(5)), 1e-15);
    }

    @Test
    void lecun() {
        checkNormal(w -> Init.lecunNormal(w, 1), 1.0 / FAN_IN);
        checkUniform(w -> Init.lecunUniform(w, 2), Math.sqrt(3.0 / FAN_IN));
    }

    @Test
    void xavier() {
        checkUniform(w -> Init.xavierUniform(w, 3), Math.sqrt(6.0 / (FAN_IN + FAN_OUT)));
        checkUniform(w -> Init.xavierUniform(w, 2.0, 4), 2.0 * Math.sqrt(6.0 / (FAN_IN + FAN_OUT)));
        checkNormal(w -> Init.xavierNormal(w, 5), 2.0 / (FAN_IN + FAN_OUT));
        checkNormal(w -> Init.xavierNormal(w, 1.5, 6), 1.5 * 1.5 * 2.0 / (FAN_IN + FAN_OUT));
    }

    @Test
    void kaiming() {
        checkNormal(w -> Init.kaimingNormal(w, 0, FanMode.FAN_IN, Nonlinearity.RELU, 7), 2.0 / FAN_IN);
        checkNormal(w -> Init.kaimingNormal(w, 0, FanMode.FAN_OUT, Nonlinearity.RELU, 8), 2.0 / FAN_OUT);
        checkNormal(w -> Init.heNormal(w, FanMode.FAN_OUT, 8), 2.0 / FAN_OUT);
        double a = 0.2, leaky = 2.0 / (1 + a * a);
        checkNormal(w -> Init.kaimingNormal(w, a, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, 9), leaky / FAN_IN);
        checkUniform(w -> Init.kaimingUniform(w, 0, FanMode.FAN_IN, Nonlinearity.RELU, 10), Math.sqrt(6.0 / FAN_IN));
        checkUniform(w -> Init.heUniform(w, FanMode.FAN_OUT, 11), Math.sqrt(6.0 / FAN_OUT));
        checkUniform(w -> Init.kaimingUniform(w, a, FanMode.FAN_OUT, Nonlinearity.LEAKY_RELU, 12), Math.sqrt(3 * leaky / FAN_OUT));
    }

    @Test
    void pytorchDefaultConvLinearInit() {
        checkUniform(w -> Init.torchDefaultWeight(w, 13), 1 / Math.sqrt(FAN_IN));
        try (Tensor b = Tensor.zeros(DType.F64, 300_000)) {
            Init.torchDefaultBias(b, SHAPE, 14);
            double bound = 1 / Math.sqrt(FAN_IN);
            double max = 0;
            for (double v : b.toDoubleArray()) {
                assertTrue(Math.abs(v) <= bound, "bias value " + v + " outside ±" + bound);
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max > 0.999 * bound, "max |bias| " + max + " far below bound " + bound);
        }
        // Linear(20 → 10): bias bound 1/√20
        try (Tensor b = Tensor.zeros(10)) {
            Init.torchDefaultBias(b, new int[]{10, 20}, 1);
            for (float v : b.toFloatArray()) assertTrue(Math.abs(v) <= 1 / Math.sqrt(20) + 1e-7 && v != 0f);
        }
    }

    @Test
    void sameSeedSameValuesDifferentSeedDifferentValues() {
        for (DType t : new DType[]{DType.F32, DType.F64}) {
            try (Tensor a = Tensor.zeros(t, 8, 4, 3, 3); Tensor b = Tensor.zeros(t, 8, 4, 3, 3); Tensor c = Tensor.zeros(t, 8, 4, 3, 3)) {
                Init.kaimingNormal(a, 0, FanMode.FAN_OUT, Nonlinearity.RELU, 42);
                Init.kaimingNormal(b, 0, FanMode.FAN_OUT, Nonlinearity.RELU, 42);
                Init.kaimingNormal(c, 0, FanMode.FAN_OUT, Nonlinearity.RELU, 43);
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
                assertFalse(Arrays.equals(a.toDoubleArray(), c.toDoubleArray()));
                Init.xavierUniform(a, 7);
                Init.xavierUniform(b, 7);
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
            }
        }
    }

    @Test
    void constantsWorkOnEveryDtypeAndStridedViews() {
        try (Tensor i = Tensor.zeros(DType.I64, 3, 4); Tensor f = Tensor.zeros(DType.F32, 4, 6)) {
            Init.ones(i);
            for (double v : i.toDoubleArray()) assertEquals(1.0, v);
            Init.constant(i, 7);
            for (double v : i.toDoubleArray()) assertEquals(7.0, v);
            Init.zeros(i);
            for (double v : i.toDoubleArray()) assertEquals(0.0, v);
            Init.constant(f.transpose(0, 1).narrow(0, 1, 2), 2.5);   // columns 1..2 of f
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 6; c++) assertEquals(c == 1 || c == 2 ? 2.5 : 0.0, f.getDouble(r, c));
            }
        }
    }

    @Test
    void badInputsAreRejectedClearly() {
        try (Tensor i = Tensor.zeros(DType.I32, 4, 4); Tensor v = Tensor.zeros(DType.F32, 4); Tensor e = Tensor.zeros(DType.F32, 0, 3)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Init.xavierUniform(i, 1));
            assertTrue(ex.getMessage().contains("I32"), ex.getMessage());
            ex = assertThrows(IllegalArgumentException.class, () -> Init.kaimingNormal(v, 0, FanMode.FAN_IN, Nonlinearity.RELU, 1));
            assertTrue(ex.getMessage().contains("[4]"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Init.xavierNormal(v.reshape(2, 2), -1, 1));
            Init.xavierUniform(e, 1);   // empty: no-op, no division by a zero fan
        }
    }

    // ---------------------------------------------------------------- statistics

    private static void checkNormal(Consumer<Tensor> init, double variance) {
        for (DType t : new DType[]{DType.F32, DType.F64}) {
            try (Tensor w = Tensor.zeros(t, SHAPE)) {
                init.accept(w);
                double[] x = w.toDoubleArray();
                double[] mv = meanVar(x);
                double sd = Math.sqrt(variance);
                assertTrue(Math.abs(mv[0]) < 6 * sd / Math.sqrt(x.length), t + ": mean " + mv[0] + " too far from 0 (std " + sd + ")");
                assertEquals(variance, mv[1], 0.02 * variance, t + ": variance");
                // a normal, not a uniform: about 4.55% of draws beyond 2σ (uniform with this variance has none)
                long beyond = Arrays.stream(x).filter(v -> Math.abs(v) > 2 * sd).count();
                assertEquals(0.0455, beyond / (double) x.length, 0.003, t + ": fraction beyond 2σ");
            }
        }
    }

    private static void checkUniform(Consumer<Tensor> init, double bound) {
        for (DType t : new DType[]{DType.F32, DType.F64}) {
            try (Tensor w = Tensor.zeros(t, SHAPE)) {
                init.accept(w);
                double[] x = w.toDoubleArray();
                double max = 0;
                for (double v : x) {
                    assertTrue(Math.abs(v) <= bound * (1 + 1e-7), t + ": value " + v + " outside ±" + bound);
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0.999 * bound, t + ": max |x| " + max + " far below bound " + bound);
                double[] mv = meanVar(x);
                double variance = bound * bound / 3;
                assertTrue(Math.abs(mv[0]) < 6 * Math.sqrt(variance / x.length), t + ": mean " + mv[0]);
                assertEquals(variance, mv[1], 0.02 * variance, t + ": variance");
            }
        }
    }

    private static double[] meanVar(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        double mean = s / x.length, q = 0;
        for (double v : x) q += (v - mean) * (v - mean);
        return new double[]{mean, q / x.length};
    }
}
