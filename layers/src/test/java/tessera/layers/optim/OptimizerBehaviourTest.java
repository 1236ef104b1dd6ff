package tessera.layers.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tessera.layers.optim.OptimizerTrajectoryTest.setGrad;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Parameter groups, skipping, validation, state lifetime, and the F32 Vector API path against the F64 loops. */
class OptimizerBehaviourTest {

    @Test
    void parameterGroupsUseTheirOwnLearningRateAndWeightDecay() {
        try (Tensor a = Tensor.of(new double[]{1, 2}, 2); Tensor b = Tensor.of(new double[]{3, -1}, 2)) {
            Variable pa = Variable.parameter(a, "a"), pb = Variable.parameter(b, "b");
            List<ParamGroup> groups = List.of(ParamGroup.of(pa), ParamGroup.of(pb).lr(0.01).weightDecay(0.5).set(Sgd.MOMENTUM, 0.9));
            try (Sgd opt = new Sgd(groups, 0.1, 0, 0, 0, false)) {
                assertEquals(0.1, opt.lr(0));
                assertEquals(0.01, opt.lr(1));
                assertEquals(0.0, opt.paramGroups().get(0).get(Sgd.MOMENTUM));   // default filled in
                setGrad(pa, new double[]{1, 1});
                setGrad(pb, new double[]{1, 1});
                opt.step();
                // group 0: p − 0.1·g;   group 1: d = g + 0.5·p, buf = d, p − 0.01·d
                assertArrayEquals(new double[]{0.9, 1.9}, a.toDoubleArray(), 1e-15);
                assertArrayEquals(new double[]{3 - 0.01 * 2.5, -1 - 0.01 * 0.5}, b.toDoubleArray(), 1e-15);
                opt.setLr(1, 0.1);
                double[] b1 = b.toDoubleArray();
                opt.step();
                double d0 = 1 + 0.5 * b1[0], d1 = 1 + 0.5 * b1[1];
                double v0 = 0.9 * 2.5 + d0, v1 = 0.9 * 0.5 + d1;
                assertArrayEquals(new double[]{b1[0] - 0.1 * v0, b1[1] - 0.1 * v1}, b.toDoubleArray(), 1e-14);
                assertArrayEquals(new double[]{0.8, 1.8}, a.toDoubleArray(), 1e-15);
                opt.setLr(0.5);
                assertEquals(0.5, opt.lr(0));
                assertEquals(0.5, opt.lr(1));
            } finally {
                pa.releaseGrad();
                pb.releaseGrad();
            }
        }
    }

    @Test
    void parametersWithoutGradientAreSkipped() {
        try (Tensor a = Tensor.of(new float[]{1, 2, 3}, 3); Tensor b = Tensor.of(new float[]{4, 5}, 2)) {
            Variable pa = Variable.parameter(a, "a"), pb = Variable.parameter(b, "b");
            try (Adam opt = Adam.of(List.of(pa, pb), 0.1)) {
                setGrad(pa, new double[]{1, 1, 1});
                opt.step();
                opt.step();
                assertArrayEquals(new float[]{4, 5}, b.toFloatArray());
                assertEquals(0, opt.steps(pb));
                assertEquals(2, opt.steps(pa));
                assertTrue(opt.state(pb).isEmpty());
                assertEquals(2, opt.state(pa).size());   // exp_avg, exp_avg_sq (no AMSGrad)
                // pb joins later: its bias correction starts at its own step 1
                setGrad(pb, new double[]{2, -2});
                opt.step();
                assertEquals(1, opt.steps(pb));
                assertArrayEquals(new float[]{4 - 0.1f, 5 + 0.1f}, b.toFloatArray(), 1e-6f);
            } finally {
                pa.releaseGrad();
                pb.releaseGrad();
            }
        }
    }

    @Test
    void zeroGradZeroesEveryGradient() {
        try (Tensor a = Tensor.of(new float[]{1, 2}, 2)) {
            Variable pa = Variable.parameter(a, "a");
            try (Sgd opt = Sgd.of(List.of(pa), 0.1)) {
                setGrad(pa, new double[]{3, 4});
                opt.zeroGrad();
                assertArrayEquals(new float[]{0, 0}, pa.grad().toFloatArray());
                opt.step();
                assertArrayEquals(new float[]{1, 2}, a.toFloatArray());
            } finally {
                pa.releaseGrad();
            }
        }
    }

    @Test
    void invalidConfigurationsAreRejectedWithTheirNames() {
        try (Tensor a = Tensor.of(new float[]{1, 2}, 2); Tensor i = Tensor.ofLongs(new long[]{1, 2}, 2); Tensor m = Tensor.zeros(3, 4)) {
            Variable pa = Variable.parameter(a, "a");
            assertMessage(() -> Sgd.of(List.of(pa), -0.1), "lr", "-0.1");
            assertMessage(() -> Sgd.of(List.of(pa), 0.1, 0, 0, 0, true), "Nesterov", "momentum");
            assertMessage(() -> Sgd.of(List.of(pa, pa), 0.1), "'a'", "more than once");
            assertMessage(() -> new Sgd(List.of(ParamGroup.of(pa).set("betas", 0.9)), 0.1, 0, 0, 0, false), "betas", "momentum");
            assertMessage(() -> Adam.of(List.of(pa), 0.1, 1.0, 0.999, 1e-8, 0, false), "beta1", "1.0");
            assertMessage(() -> RmsProp.of(List.of(pa), 0.1, 0.99, -1, 0, 0, false), "eps");
            assertMessage(() -> Sgd.of(List.of(Variable.parameter(i, "idx")), 0.1), "I64", "F32 or F64");
            assertMessage(() -> Sgd.of(List.of(Variable.parameter(m.transpose(0, 1), "t")), 0.1), "contiguous");
            assertMessage(() -> new Sgd(List.of(), 0.1, 0, 0, 0, false), "at least one");
            try (Sgd opt = Sgd.of(List.of(pa), 0.1)) {
                opt.paramGroups().get(0).set(Sgd.MOMENTUM, -1);   // changed between steps: checked at step()
                setGrad(pa, new double[]{1, 1});
                assertMessage(opt::step, "momentum", "-1.0");
                assertMessage(() -> opt.setLr(Double.NaN), "learning rate");
                assertMessage(() -> opt.lr(3), "group index 3");
            } finally {
                pa.releaseGrad();
            }
        }
    }

    @Test
    void closeFreesStateAndForbidsFurtherSteps() {
        try (Tensor a = Tensor.zeros(DType.F32, 1000)) {
            Variable pa = Variable.parameter(a, "a");
            Adam opt = Adam.of(List.of(pa), 0.1, 0.9, 0.999, 1e-8, 0, true);
            setGrad(pa, new double[]{1});
            opt.step();
            assertTrue(opt.stateBytes() >= 3 * 4000, "three state buffers of 4000 bytes: " + opt.stateBytes());
            Tensor m = opt.state(pa).get(Adam.EXP_AVG);
            opt.close();
            assertEquals(0, opt.stateBytes());
            assertTrue(!m.isAlive());
            assertThrows(IllegalStateException.class, opt::step);
            opt.close();   // idempotent
            pa.releaseGrad();
        }
    }

    /** F32 (Vector API, masked tail) against F64 (plain loops) for sizes around the vector width. */
    @Test
    void float32VectorPathAgreesWithFloat64Loops() {
        List<Function<List<Variable>, Optimizer>> makers = List.of(
                ps -> Sgd.of(ps, 0.05, 0.9, 0.1, 0.01, false),
                ps -> Sgd.of(ps, 0.05, 0.9, 0, 0.01, true),
                ps -> Sgd.of(ps, 0.05),
                ps -> RmsProp.of(ps, 0.01, 0.9, 1e-6, 0.1, 0.5, true),
                ps -> RmsProp.of(ps, 0.01),
                ps -> Adam.of(ps, 0.01, 0.9, 0.99, 1e-8, 0.1, true),
                ps -> AdamW.of(ps, 0.01));
        for (int n : new int[]{1, 7, 16, 37, 64, 131}) {
            SplittableRandom r = new SplittableRandom(n);
            double[] p0 = r.doubles(n, -1, 1).toArray();
            double[][] g = new double[4][];
            for (int t = 0; t < 4; t++) g[t] = r.doubles(n, -1, 1).toArray();
            for (int k = 0; k < makers.size(); k++) {
                double[] f64 = runOn(DType.F64, p0, g, makers.get(k));
                double[] f32 = runOn(DType.F32, p0, g, makers.get(k));
                for (int i = 0; i < n; i++) {
                    assertEquals(f64[i], f32[i], 1e-5 * Math.abs(f64[i]) + 1e-6, "optimizer " + k + " n=" + n + " element " + i);
                }
                assertTrue(!java.util.Arrays.equals(f64, p0), "optimizer " + k + " did not move the parameter");
            }
        }
    }

    /** Stopping after two steps, saving state through safetensors and resuming gives exactly the third step. */
    @Test
    void stateDictRoundTripResumesExactly() {
        List<Function<List<Variable>, Optimizer>> makers = List.of(
                ps -> Sgd.of(ps, 0.05, 0.9, 0.1, 0.01, false),
                ps -> RmsProp.of(ps, 0.01, 0.9, 1e-6, 0.1, 0.5, true),
                ps -> Adam.of(ps, 0.01, 0.9, 0.9, 1e-8, 0.1, true),
                ps -> AdamW.of(ps, 0.01));
        double[] p0 = {0.5, -1, 2, 0.25, 3};
        double[][] g = {{1, -1, 0.5, 0, 2}, {-0.5, 0.1, 0.1, 1, 0.2}, {0.01, 0.02, -0.03, 0.04, 0.05}};
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            for (int k = 0; k < makers.size(); k++) {
                double[] straight = runOn(dt, p0, g, makers.get(k));
                byte[] saved;
                double[] mid;
                try (Tensor v = Tensor.of(p0.clone(), 5); Tensor value = v.to(dt)) {
                    Variable p = Variable.parameter(value, "p");
                    try (Optimizer opt = makers.get(k).apply(List.of(p))) {
                        for (int t = 0; t < 2; t++) {
                            setGradQuiet(p, g[t]);
                            opt.step();
                        }
                        assertTrue(opt.stateDict().containsKey("0.0.step"));
                        saved = tessera.layers.io.SafeTensors.toBytes(opt.stateDict(), null);
                    } finally {
                        p.releaseGrad();
                    }
                    mid = value.toDoubleArray();
                }
                try (Tensor v = Tensor.of(mid, 5); Tensor value = v.to(dt);
                     tessera.layers.io.SafeTensors.Contents c = tessera.layers.io.SafeTensors.read(saved)) {
                    Variable p = Variable.parameter(value, "p");
                    try (Optimizer opt = makers.get(k).apply(List.of(p))) {
                        opt.loadStateDict(c.tensors());
                        assertEquals(2, opt.steps(p));
                        setGradQuiet(p, g[2]);
                        opt.step();
                        assertArrayEquals(straight, value.toDoubleArray(), 0.0, "optimizer " + k + " " + dt + " resumed");
                    } finally {
                        p.releaseGrad();
                    }
                }
            }
        }
    }

    @Test
    void loadStateDictRejectsMismatchedState() {
        try (Tensor a = Tensor.zeros(DType.F32, 3); Tensor wrong = Tensor.zeros(DType.F32, 4); Tensor step = Tensor.ofLongs(new long[]{2}, 1);
             Tensor ok = Tensor.zeros(DType.F32, 3); Tensor neg = Tensor.ofLongs(new long[]{-1}, 1)) {
            Variable pa = Variable.parameter(a, "a");
            try (Sgd opt = Sgd.of(List.of(pa), 0.1, 0.9, 0, 0, false)) {
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("0.0.step", step, "0.0.momentum_buffer", wrong)), "shape [4]", "[3]");
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("0.0.step", step, "0.0.exp_avg", ok)), "exp_avg", "momentum_buffer");
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("0.1.step", step)), "parameter 1 of group 0");
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("x.step", step)), "'x.step'");
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("0.0.momentum_buffer", ok)), "no matching '0.0.step'");
                assertMessage(() -> opt.loadStateDict(java.util.Map.of("0.0.step", neg)), "step count");
                assertEquals(0, opt.steps(pa));   // nothing changed
            }
        }
    }

    private static double[] runOn(DType dt, double[] p0, double[][] g, Function<List<Variable>, Optimizer> make) {
        try (Tensor v = Tensor.of(p0.clone(), p0.length); Tensor value = v.to(dt)) {
            Variable p = Variable.parameter(value, "p");
            try (Optimizer opt = make.apply(List.of(p))) {
                for (double[] gt : g) {
                    setGradQuiet(p, gt);
                    opt.step();
                }
            } finally {
                p.releaseGrad();
            }
            return value.toDoubleArray();
        }
    }

    /** Gradients rounded to the parameter's dtype so both paths see the same numbers. */
    private static void setGradQuiet(Variable p, double[] g) {
        double[] r = g.clone();
        if (p.dtype() == DType.F32) for (int i = 0; i < r.length; i++) r[i] = (float) r[i];
        setGrad(p, r);
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String... parts) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String part : parts) assertTrue(ex.getMessage().contains(part), "message '" + ex.getMessage() + "' lacks '" + part + "'");
    }
}
