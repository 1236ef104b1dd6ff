package tessera.layers.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tessera.autograd.Variable;
import tessera.layers.optim.Optimizer;
import tessera.layers.optim.ParamGroup;
import tessera.layers.optim.Sgd;
import tessera.memory.Tensor;

/**
 * Each scheduler over 300 epochs and two parameter groups (base rates 0.1 and 0.02): the rate written into the
 * optimizer after each {@code step()} and {@code lr(group, epoch)} must equal the documented formula, evaluated
 * here independently (recursive forms where PyTorch has them), to 1e-12 relative.
 */
class LrSchedulerTest {
    static final int EPOCHS = 300;
    static final double[] BASE = {0.1, 0.02};

    Tensor a, b;
    Optimizer opt;

    @BeforeEach
    void setUp() {
        a = Tensor.zeros(2);
        b = Tensor.zeros(3);
        opt = new Sgd(List.of(ParamGroup.of(Variable.parameter(a, "a")), ParamGroup.of(Variable.parameter(b, "b")).lr(BASE[1])),
                BASE[0], 0.9, 0, 0, false);
    }

    @AfterEach
    void tearDown() {
        opt.close();
        a.close();
        b.close();
    }

    /** Steps the scheduler through EPOCHS and compares the optimizer's rates with {@code expected(group, epoch)}. */
    void follow(LrScheduler s, java.util.function.BiFunction<Integer, Integer, Double> expected) {
        for (int e = 0; e < EPOCHS; e++) {
            if (e > 0) s.step();
            assertEquals(e, s.epoch());
            for (int g = 0; g < 2; g++) {
                double want = expected.apply(g, e);
                assertEquals(want, opt.lr(g), 1e-12 * Math.abs(want) + 1e-300, "group " + g + " epoch " + e);
                assertEquals(opt.lr(g), s.lr(g, e), 0.0);
            }
        }
    }

    @Test
    void stepLr() {
        double[] lr = BASE.clone();
        StepLr s = new StepLr(opt, 30, 0.1);
        follow(s, (g, e) -> {
            if (e > 0 && e % 30 == 0 && g == 0) { lr[0] *= 0.1; lr[1] *= 0.1; }   // PyTorch's recursive form
            return lr[g];
        });
        assertEquals(0.1 * 1e-3, s.lr(0, 90), 1e-18);
        assertEquals(0.1 * 1e-2, s.lr(0, 89), 1e-18);
    }

    @Test
    void exponentialLr() {
        double[] lr = BASE.clone();
        follow(new ExponentialLr(opt, 0.97), (g, e) -> {
            if (e > 0 && g == 0) { lr[0] *= 0.97; lr[1] *= 0.97; }
            return lr[g];
        });
    }

    @Test
    void lambdaLrSharedAndPerGroup() {
        IntToDoubleFunction warmup = e -> Math.min(1.0, (e + 1) / 10.0);
        follow(new LambdaLr(opt, warmup), (g, e) -> BASE[g] * Math.min(1.0, (e + 1) / 10.0));
        opt.setLr(0, BASE[0]);
        opt.setLr(1, BASE[1]);
        follow(new LambdaLr(opt, List.of(e -> 1.0 / (e + 1), e -> Math.pow(0.5, e / 50))),
                (g, e) -> BASE[g] * (g == 0 ? 1.0 / (e + 1) : Math.pow(0.5, e / 50)));
    }

    @Test
    void cosineAnnealing() {
        int tMax = 50;
        double etaMin = 0.001;
        CosineAnnealingLr s = new CosineAnnealingLr(opt, tMax, etaMin);
        follow(s, (g, e) -> etaMin + (BASE[g] - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2);
        for (int g = 0; g < 2; g++) {
            assertEquals(BASE[g], s.lr(g, 0), 1e-15);
            assertEquals(etaMin, s.lr(g, tMax), 1e-15);
            assertEquals((BASE[g] + etaMin) / 2, s.lr(g, tMax / 2), 1e-15);
            // PyTorch's recursive (chainable) form agrees with the closed form inside the first period
            double lr = BASE[g];
            for (int e = 1; e < tMax; e++) {
                lr = etaMin + (lr - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / (1 + Math.cos(Math.PI * (e - 1) / tMax));
                assertEquals(lr, s.lr(g, e), 1e-12, "recursive form, group " + g + " epoch " + e);
            }
        }
    }

    @Test
    void cosineAnnealingWarmRestarts() {
        for (int tMult : new int[]{1, 2, 3}) {
            int t0 = 10;
            double etaMin = 0.0005;
            opt.setLr(0, BASE[0]);
            opt.setLr(1, BASE[1]);
            CosineAnnealingWarmRestarts s = new CosineAnnealingWarmRestarts(opt, t0, tMult, etaMin);
            // restart epochs 0, T0, T0 + T0·Tm, ... listed explicitly
            java.util.List<Integer> restarts = new java.util.ArrayList<>();
            for (long start = 0, len = t0; start < EPOCHS; start += len, len *= tMult) restarts.add((int) start);
            follow(s, (g, e) -> {
                int k = 0;
                while (k + 1 < restarts.size() && restarts.get(k + 1) <= e) k++;
                double ti = t0 * Math.pow(tMult, k), tCur = e - restarts.get(k);
                return etaMin + (BASE[g] - etaMin) * (1 + Math.cos(Math.PI * tCur / ti)) / 2;
            });
            for (int r : restarts) assertEquals(BASE[0], s.lr(0, r), 1e-15, "restart at " + r);
            assertEquals((BASE[0] + etaMin) / 2, s.lr(0, restarts.get(1) + t0 * tMult / 2), 1e-12);
            assertTrue(s.lr(0, restarts.get(1) - 1) < 0.04 * BASE[0], "end of the first period is near eta_min");
        }
    }

    @Test
    void setEpochResumesFromTheClosedForm() {
        StepLr s = new StepLr(opt, 5, 0.5);
        s.setEpoch(12);
        assertEquals(12, s.epoch());
        assertEquals(0.1 * 0.25, opt.lr(0), 1e-15);
        s.step();
        assertEquals(0.1 * 0.25, opt.lr(0), 1e-15);
        s.setEpoch(15);
        assertEquals(0.1 * 0.125, opt.lr(0), 1e-15);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new StepLr(opt, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new ExponentialLr(opt, -1));
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLr(opt, 0));
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingWarmRestarts(opt, 10, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new LambdaLr(opt, List.of(e -> 1.0)));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new LambdaLr(opt, e -> -1.0));
        assertTrue(ex.getMessage().contains("-1.0") && ex.getMessage().contains("epoch 0"), ex.getMessage());
        ExponentialLr s = new ExponentialLr(opt, 0.9);
        assertThrows(IllegalArgumentException.class, () -> s.lr(0, -1));
        assertThrows(IllegalArgumentException.class, () -> s.lr(2, 0));
    }
}
