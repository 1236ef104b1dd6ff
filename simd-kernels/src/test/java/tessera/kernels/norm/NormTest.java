package tessera.kernels.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static tessera.kernels.eltwise.KernelChecks.assertClose;
import static tessera.kernels.eltwise.KernelChecks.uniform;

import org.junit.jupiter.api.Test;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.KernelChecks;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * BatchNorm, LocalResponseNorm and Dropout. F32 vs float64 reference: 1e-5 abs + 1e-4 rel for normalized outputs and
 * gradients (x̂ has unit variance; float32 statistics); reference gradients vs central differences.
 */
class NormTest {
    static final double ATOL = 1e-5, RTOL = 1e-4;

    @Test
    void batchNormRunningStatsFollowPyTorch() {
        // x = [1,2,3,4] in one channel: mean 2.5, biased var 1.25, unbiased 5/3; momentum 0.1 from (0, 1)
        try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 4, 1); Tensor rm = Tensor.of(new float[] {0}, 1); Tensor rv = Tensor.of(new float[] {1}, 1);
             Tensor y = Tensor.zeros(4, 1); Tensor sm = Tensor.zeros(1); Tensor si = Tensor.zeros(1)) {
            BatchNorm.forwardTraining(x, null, null, rm, rv, 0.1, 1e-5, y, sm, si);
            assertEquals(0.25, rm.getDouble(0), 1e-7);
            assertEquals(0.9 + 0.1 * 5.0 / 3.0, rv.getDouble(0), 1e-6);
            assertEquals(2.5, sm.getDouble(0), 1e-7);
            assertEquals(1 / Math.sqrt(1.25 + 1e-5), si.getDouble(0), 1e-6);
            assertEquals(-1.5 / Math.sqrt(1.25 + 1e-5), y.getDouble(0, 0), 1e-6);
        }
    }

    @Test
    void batchNormMatchesReference() {
        qt().withExamples(100).forAll(integers().between(1, 4), integers().between(1, 5), integers().between(1, 50), longs().between(1, 1_000_000))
                .checkAssert(NormTest::checkBatchNorm);
    }

    /** The falsifying case QuickTheories found once: M = 2 close values (a large σ⁻¹), where dx cancelled badly. */
    @Test
    void batchNormGradientOfCloseValuesInASmallChannel() { checkBatchNorm(1, 1, 2, 86L); }

    /**
     * Another case QuickTheories found: M = 2 close values again, now in the forward pass, whose uncentred
     * y = a·x + (β − a·mean) cancelled two terms of size γσ⁻¹·|mean| in float32 (|error| 1.04e-5, bound 1.01e-5).
     */
    @Test
    void batchNormTrainingOutputOfCloseValuesInASmallChannel() { checkBatchNorm(2, 2, 1, 849L); }

    /**
     * Above 32 Ki elements the channels are split between threads: every output, statistic and gradient has the
     * same bits on one and two threads, and still matches the float64 reference.
     */
    @Test
    void batchNormIsThreadCountIndependent() {
        qt().withExamples(6).forAll(integers().between(2, 4), integers().between(1, 7), integers().between(4000, 9000), longs().between(1, 1_000_000))
                .checkAssert((n, c, hw, seed) -> {
                    int saved = ComputePool.threads();
                    try {
                        ComputePool.setThreads(1);
                        float[][] one = batchNormOutputs(n, c, hw, seed);
                        ComputePool.setThreads(2);
                        float[][] two = batchNormOutputs(n, c, hw, seed);
                        for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], two[i], "output " + i);
                        checkBatchNorm(n, c, hw, seed);
                    } finally {
                        ComputePool.setThreads(saved);
                    }
                });
    }

    /**
     * Batch norm with a fused ReLU gives the same bits as batch norm followed by the ReLU activation, forward and
     * backward (float32 with vector tails, on 1 and 2 threads; float64 through the reference), and the gradient
     * really is masked: zero wherever the output is.
     */
    @Test
    void fusedReluMatchesBatchNormThenRelu() {
        qt().withExamples(40).forAll(integers().between(1, 4), integers().between(1, 6), integers().between(1, 3000), longs().between(1, 1_000_000))
                .checkAssert((n, c, hw, seed) -> {
                    if (n * hw < 2) return;
                    int saved = ComputePool.threads();
                    try {
                        for (int threads = 1; threads <= 2; threads++) {
                            ComputePool.setThreads(threads);
                            for (DType d : new DType[] {DType.F32, DType.F64}) checkFusedRelu(d, n, c, hw, seed);
                        }
                    } finally {
                        ComputePool.setThreads(saved);
                    }
                });
    }

    private static void checkFusedRelu(DType d, int n, int c, int hw, long seed) {
        try (Tensor x = uniformAs(d, seed, -2, 3, n, c, hw); Tensor g = uniformAs(d, seed + 1, 0.5, 1.5, c);
             Tensor b = uniformAs(d, seed + 2, -1, 1, c); Tensor dy = uniformAs(d, seed + 3, -1, 1, n, c, hw);
             Tensor z = Tensor.zeros(d, n, c, hw); Tensor y = Tensor.zeros(d, n, c, hw); Tensor fused = Tensor.zeros(d, n, c, hw);
             Tensor sm = Tensor.zeros(d, c); Tensor si = Tensor.zeros(d, c); Tensor dz = Tensor.zeros(d, n, c, hw);
             Tensor dx = Tensor.zeros(d, n, c, hw); Tensor dg = Tensor.zeros(d, c); Tensor db = Tensor.zeros(d, c);
             Tensor dxF = Tensor.zeros(d, n, c, hw); Tensor dgF = Tensor.zeros(d, c); Tensor dbF = Tensor.zeros(d, c)) {
            BatchNorm.forwardTraining(x, g, b, null, null, 0.1, 1e-5, z, sm, si);
            tessera.kernels.eltwise.Activations.forward(tessera.kernels.ActivationFn.RELU, z, y);
            tessera.kernels.eltwise.Activations.backward(tessera.kernels.ActivationFn.RELU, z, y, dy, dz);
            BatchNorm.backward(x, g, sm, si, dz, dx, dg, db);
            BatchNorm.forwardTraining(x, g, b, null, null, 0.1, 1e-5, fused, null, null, true);
            BatchNorm.backward(x, g, sm, si, dy, fused, dxF, dgF, dbF);
            String what = d + " " + n + "x" + c + "x" + hw;
            assertArrayEquals(y.toDoubleArray(), fused.toDoubleArray(), what + " y");
            assertArrayEquals(dx.toDoubleArray(), dxF.toDoubleArray(), what + " dx");
            assertArrayEquals(dg.toDoubleArray(), dgF.toDoubleArray(), what + " dgamma");
            assertArrayEquals(db.toDoubleArray(), dbF.toDoubleArray(), what + " dbeta");
            // the ReLU's mask told from x with the forward's saved coefficients instead of from its output: same bits
            try (Tensor coef = Tensor.zeros(DType.F32, 4 * c); Tensor fused2 = Tensor.zeros(d, n, c, hw);
                 Tensor dxC = Tensor.zeros(d, n, c, hw); Tensor dgC = Tensor.zeros(d, c); Tensor dbC = Tensor.zeros(d, c)) {
                BatchNorm.forwardTraining(x, g, b, null, null, 0.1, 1e-5, fused2, null, null, true, coef);
                assertArrayEquals(fused.toDoubleArray(), fused2.toDoubleArray(), what + " y with coefficients saved");
                BatchNorm.backward(x, g, sm, si, dy, d == DType.F32 ? null : fused, coef, dxC, dgC, dbC);
                assertArrayEquals(dx.toDoubleArray(), dxC.toDoubleArray(), what + " dx, mask from x");
                assertArrayEquals(dg.toDoubleArray(), dgC.toDoubleArray(), what + " dgamma, mask from x");
                assertArrayEquals(db.toDoubleArray(), dbC.toDoubleArray(), what + " dbeta, mask from x");
            }
            double[] yv = fused.toDoubleArray(), dyv = dy.toDoubleArray();
            double masked = 0;
            for (int i = 0; i < yv.length; i++) if (yv[i] > 0) masked += dyv[i];
            double[] dbv = dbF.toDoubleArray();
            double total = 0;
            for (double v : dbv) total += v;
            assertEquals(masked, total, 1e-3 * (1 + Math.abs(masked)), what + ": dbeta sums dy over positive outputs only");
        }
    }

    private static Tensor uniformAs(DType d, long seed, double lo, double hi, int... shape) {
        try (Tensor t = uniform(seed, lo, hi, shape)) {
            return t.to(d);
        }
    }

    /** y, saveMean, saveInvStd, running mean and variance, dx, dgamma, dbeta of one training step's batch norm. */
    private static float[][] batchNormOutputs(int n, int c, int hw, long seed) {
        try (Tensor x = uniform(seed, -2, 3, n, c, hw); Tensor g = uniform(seed + 1, 0.5, 1.5, c); Tensor b = uniform(seed + 2, -1, 1, c);
             Tensor dy = uniform(seed + 3, -1, 1, n, c, hw); Tensor rm = uniform(seed + 4, -1, 1, c); Tensor rv = uniform(seed + 5, 0.5, 2, c);
             Tensor y = Tensor.zeros(n, c, hw); Tensor sm = Tensor.zeros(c); Tensor si = Tensor.zeros(c);
             Tensor dx = Tensor.zeros(n, c, hw); Tensor dg = Tensor.zeros(c); Tensor db = Tensor.zeros(c)) {
            BatchNorm.forwardTraining(x, g, b, rm, rv, 0.1, 1e-5, y, sm, si);
            BatchNorm.backward(x, g, sm, si, dy, dx, dg, db);
            return new float[][] {y.toFloatArray(), sm.toFloatArray(), si.toFloatArray(), rm.toFloatArray(), rv.toFloatArray(),
                    dx.toFloatArray(), dg.toFloatArray(), db.toFloatArray()};
        }
    }

    private static void checkBatchNorm(int n, int c, int hw, long seed) {
                if (n * hw < 2) return;
                try (Tensor x = uniform(seed, -2, 3, n, c, hw); Tensor g = uniform(seed + 1, 0.5, 1.5, c); Tensor b = uniform(seed + 2, -1, 1, c);
                     Tensor rm = uniform(seed + 3, -1, 1, c); Tensor rv = uniform(seed + 4, 0.5, 2, c); Tensor y = Tensor.zeros(n, c, hw);
                     Tensor sm = Tensor.zeros(c); Tensor si = Tensor.zeros(c); Tensor dy = uniform(seed + 5, -1, 1, n, c, hw);
                     Tensor dx = Tensor.zeros(n, c, hw); Tensor dg = Tensor.zeros(c); Tensor db = Tensor.zeros(c);
                     Tensor x64 = x.to(DType.F64); Tensor g64 = g.to(DType.F64); Tensor b64 = b.to(DType.F64); Tensor rm64 = rm.to(DType.F64);
                     Tensor rv64 = rv.to(DType.F64); Tensor y64 = Tensor.zeros(DType.F64, n, c, hw); Tensor sm64 = Tensor.zeros(DType.F64, c);
                     Tensor si64 = Tensor.zeros(DType.F64, c); Tensor dy64 = dy.to(DType.F64); Tensor dx64 = Tensor.zeros(DType.F64, n, c, hw);
                     Tensor dg64 = Tensor.zeros(DType.F64, c); Tensor db64 = Tensor.zeros(DType.F64, c)) {
                    BatchNorm.forwardInference(x, g, b, rm, rv, 1e-5, y);
                    BatchNorm.forwardInference(x64, g64, b64, rm64, rv64, 1e-5, y64);
                    assertClose(y, y64, ATOL, RTOL, "inference");
                    BatchNorm.forwardTraining(x, g, b, rm, rv, 0.1, 1e-5, y, sm, si);
                    BatchNorm.forwardTraining(x64, g64, b64, rm64, rv64, 0.1, 1e-5, y64, sm64, si64);
                    assertClose(y, y64, ATOL, RTOL, "training y");
                    assertClose(sm, sm64, ATOL, RTOL, "saveMean");
                    assertClose(si, si64, ATOL, RTOL, "saveInvStd");
                    assertClose(rm, rm64, ATOL, RTOL, "runningMean");
                    assertClose(rv, rv64, ATOL, RTOL, "runningVar");
                    BatchNorm.backward(x, g, sm, si, dy, dx, dg, db);
                    BatchNorm.backward(x64, g64, sm64, si64, dy64, dx64, dg64, db64);
                    // dx = γ·σ⁻¹/M·(M·dy − Σdy − x̂·Σ(dy·x̂)) cancels terms of size γ·σ⁻¹·|dy| to results near 0, and
                    // σ⁻¹ is large when a channel's M = N·H·W values are close (M = 2 gives ±1 outputs): float32
                    // rounding in the length-M reductions bounds the error by ~M·u·γ·σ⁻¹·max|dy| (u = 2⁻²⁴; factor 16).
                    double maxInvStd = 0;
                    for (double v : si64.toDoubleArray()) maxInvStd = Math.max(maxInvStd, v);
                    double dxScale = 16 * n * hw * 0x1p-24 * 1.5 * maxInvStd;
                    // and the saved mean is a float32: x − mean carries an absolute error up to u·|mean|, i.e. x̂ an error
                    // u·|mean|·σ⁻¹, which dx = γσ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)) multiplies by γσ⁻¹·2·max|x̂|·max|dy|
                    // (|x̂| ≤ √M; γ ≤ 1.5, |dy| ≤ 1): significant only when σ is tiny against |mean| (M = 2 close values)
                    double maxAbsMean = 0;
                    for (double v : sm64.toDoubleArray()) maxAbsMean = Math.max(maxAbsMean, Math.abs(v));
                    dxScale += 2 * 1.5 * maxInvStd * maxInvStd * 0x1p-24 * maxAbsMean * Math.sqrt(n * hw);
                    assertClose(dx, dx64, ATOL + dxScale, RTOL, "dx");
                    assertClose(dg, dg64, ATOL * n * hw, RTOL, "dgamma");
                    assertClose(db, db64, ATOL * n * hw, RTOL, "dbeta");
                }
    }

    @Test
    void batchNormGradientsMatchFiniteDifferences() {
        qt().withExamples(25).forAll(integers().between(1, 3), integers().between(1, 3), integers().between(1, 4), longs().between(1, 1_000_000))
                .checkAssert((n, c, hw, seed) -> {
                    if (n * hw < 2) return;
                    try (Tensor x = uniform(seed, -2, 2, n, c, hw).to(DType.F64); Tensor g = uniform(seed + 1, 0.5, 1.5, c).to(DType.F64);
                         Tensor b = uniform(seed + 2, -1, 1, c).to(DType.F64); Tensor v = uniform(seed + 3, -1, 1, n, c, hw).to(DType.F64);
                         Tensor y = Tensor.zeros(DType.F64, n, c, hw); Tensor sm = Tensor.zeros(DType.F64, c); Tensor si = Tensor.zeros(DType.F64, c);
                         Tensor dx = Tensor.zeros(DType.F64, n, c, hw); Tensor dg = Tensor.zeros(DType.F64, c); Tensor db = Tensor.zeros(DType.F64, c)) {
                        BatchNorm.forwardTraining(x, g, b, null, null, 0.1, 1e-3, y, sm, si);
                        BatchNorm.backward(x, g, sm, si, v, dx, dg, db);
                        double[] vv = v.toDoubleArray(), x0 = x.toDoubleArray(), g0 = g.toDoubleArray(), b0 = b.toDoubleArray();
                        KernelChecks.gradCheck(x0, xs -> bnLoss(xs, g0, b0, vv, n, c, hw), dx.toDoubleArray(), "bn dx");
                        KernelChecks.gradCheck(g0, gs -> bnLoss(x0, gs, b0, vv, n, c, hw), dg.toDoubleArray(), "bn dgamma");
                        KernelChecks.gradCheck(b0, bs -> bnLoss(x0, g0, bs, vv, n, c, hw), db.toDoubleArray(), "bn dbeta");
                    }
                });
    }

    private static double bnLoss(double[] xs, double[] gs, double[] bs, double[] v, int n, int c, int hw) {
        try (Tensor x = Tensor.of(xs, n, c, hw); Tensor g = Tensor.of(gs, c); Tensor b = Tensor.of(bs, c); Tensor y = Tensor.zeros(DType.F64, n, c, hw)) {
            BatchNorm.forwardTraining(x, g, b, null, null, 0.1, 1e-3, y, null, null);
            return KernelChecks.dot(v, y);
        }
    }

    @Test
    void batchNormBadArguments() {
        try (Tensor x = Tensor.zeros(1, 3); Tensor x2 = Tensor.zeros(2, 3); Tensor y = Tensor.zeros(1, 3); Tensor y2 = Tensor.zeros(2, 3);
             Tensor g4 = Tensor.zeros(4); Tensor rv = Tensor.zeros(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BatchNorm.forwardTraining(x, null, null, null, null, 0.1, 1e-5, y, null, null));
            assertTrue(e.getMessage().contains("more than 1 value per channel"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.forwardTraining(x2, g4, null, null, null, 0.1, 1e-5, y2, null, null));
            assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("[4]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> BatchNorm.forwardInference(x2, null, null, null, rv, 1e-5, y2));
            assertThrows(IllegalArgumentException.class, () -> BatchNorm.forwardInference(x2, null, null, rv, rv, 0, y2));
        }
    }

    @Test
    void lrnMatchesReferenceAndGradients() {
        qt().withExamples(80).forAll(integers().between(1, 2), integers().between(1, 7), integers().between(1, 30),
                longs().between(1, 1_000_000)).checkAssert((n, c, hw, seed) -> {
                    int size = 1 + (int) (seed % 5);
                    double alpha = 1e-2 * (1 + seed % 7), beta = 0.75, k = 1 + (seed % 3);
                    try (Tensor x = uniform(seed, -3, 3, n, c, hw); Tensor y = Tensor.zeros(n, c, hw); Tensor dy = uniform(seed + 1, -1, 1, n, c, hw);
                         Tensor dx = Tensor.zeros(n, c, hw); Tensor x64 = x.to(DType.F64); Tensor y64 = Tensor.zeros(DType.F64, n, c, hw);
                         Tensor dy64 = dy.to(DType.F64); Tensor dx64 = Tensor.zeros(DType.F64, n, c, hw)) {
                        LocalResponseNorm.forward(x, size, alpha, beta, k, y);
                        LocalResponseNorm.forward(x64, size, alpha, beta, k, y64);
                        assertClose(y, y64, 1e-6, 1e-5, "lrn forward");
                        LocalResponseNorm.backward(x, y, dy, size, alpha, beta, k, dx);
                        LocalResponseNorm.backward(x64, y64, dy64, size, alpha, beta, k, dx64);
                        assertClose(dx, dx64, 1e-6, 1e-5, "lrn backward");
                        if (n * c * hw <= 40) {
                            double[] vv = dy64.toDoubleArray();
                            KernelChecks.gradCheck(x64.toDoubleArray(), xs -> {
                                try (Tensor xt = Tensor.of(xs, n, c, hw); Tensor yt = Tensor.zeros(DType.F64, n, c, hw)) {
                                    LocalResponseNorm.forward(xt, size, alpha, beta, k, yt);
                                    return KernelChecks.dot(vv, yt);
                                }
                            }, dx64.toDoubleArray(), "lrn");
                        }
                    }
                });
    }

    @Test
    void lrnHandExample() {
        // one position, C = 3, size 2 (window [c−1, c]), alpha 0.2, beta 0.5, k 1: d_0 = 1 + 0.1·1, d_1 = 1 + 0.1·(1+4), d_2 = 1 + 0.1·(4+9)
        try (Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 3); Tensor y = Tensor.zeros(1, 3)) {
            LocalResponseNorm.forward(x, 2, 0.2, 0.5, 1, y);
            assertEquals(1 / Math.sqrt(1.1), y.getDouble(0, 0), 1e-6);
            assertEquals(2 / Math.sqrt(1.5), y.getDouble(0, 1), 1e-6);
            assertEquals(3 / Math.sqrt(2.3), y.getDouble(0, 2), 1e-6);
            assertThrows(IllegalArgumentException.class, () -> LocalResponseNorm.forward(x, 0, 0.2, 0.5, 1, y));
            assertThrows(IllegalArgumentException.class, () -> LocalResponseNorm.forward(x, 2, 0.2, 0.5, 1, Tensor.zeros(3, 1)));
        }
    }

    @Test
    void dropoutMaskIsSeededAndThreadIndependent() {
        qt().withExamples(20).forAll(longs().all(), doubles().between(0, 1), integers().between(1, 200_000)).checkAssert((seed, p, n) -> {
            int saved = ComputePool.threads();
            try (Tensor m1 = Tensor.zeros(n); Tensor m2 = Tensor.zeros(n); Tensor m64 = Tensor.zeros(DType.F64, n)) {
                ComputePool.setThreads(1);
                Dropout.mask(seed, p, m1);
                ComputePool.setThreads(2);
                Dropout.mask(seed, p, m2);
                Dropout.mask(seed, p, m64);
                assertArrayEquals(m1.toFloatArray(), m2.toFloatArray());
                assertArrayEquals(m1.toFloatArray(), m64.toFloatArray());
                float keep = p >= 1 ? 0 : (float) (1 / (1 - p));
                int kept = 0;
                for (float f : m1.toFloatArray()) {
                    assertTrue(f == 0 || f == keep, "mask value " + f);
                    if (f != 0) kept++;
                }
                if (n >= 10_000) {
                    double sd = Math.sqrt(n * p * (1 - p));
                    assertEquals(n * (1 - p), kept, 6 * sd + 2, "kept count, p = " + p);
                }
            } finally {
                ComputePool.setThreads(saved);
            }
        });
        try (Tensor a = Tensor.zeros(1000); Tensor b = Tensor.zeros(1000)) {
            Dropout.mask(1, 0.5, a);
            Dropout.mask(2, 0.5, b);
            assertTrue(!java.util.Arrays.equals(a.toFloatArray(), b.toFloatArray()), "different seeds give different masks");
            Dropout.mask(1, 0, a);
            for (float f : a.toFloatArray()) assertEquals(1f, f);
            Dropout.mask(1, 1, a);
            for (float f : a.toFloatArray()) assertEquals(0f, f);
            assertThrows(IllegalArgumentException.class, () -> Dropout.mask(1, 1.5, a));
            assertThrows(IllegalArgumentException.class, () -> Dropout.mask(1, -0.1, a));
        }
    }
}
