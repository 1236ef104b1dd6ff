package tessera.layers.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Each optimizer against a three-step trajectory computed here with the textbook formulas (written independently
 * of the implementation, e.g. Adam with explicit bias-corrected m̂ and v̂). Gradients are set each step by a real
 * backward pass: loss = Σ p ⊙ c has ∂loss/∂p = c exactly. F64 must agree to 1e-12 (relative), F32 (float
 * arithmetic) to 2e-6 relative + 1e-7 absolute.
 */
class OptimizerTrajectoryTest {
    static final double[] P0 = {1.0, -2.0, 0.5};
    /** Gradients of steps 1..3: a large first gradient followed by small ones makes AMSGrad's max matter. */
    static final double[][] G = {{0.8, -0.3, 0.05}, {0.1, 0.2, -0.4}, {-0.05, 0.02, 0.3}};

    /** Sets p's gradient to g through autograd: zero the accumulated gradient, backpropagate Σ p⊙g. */
    @SuppressWarnings("try")
    static void setGrad(Variable p, double[] g) {
        p.zeroGrad();
        try (Scope s = Scope.open()) {
            Tensor c = Scope.alloc(p.dtype(), p.shape());
            for (int i = 0; i < g.length; i++) c.set(g[i], i);
            Ops.sum(Ops.mul(p, Variable.constant(c))).backward();
        }
        for (int i = 0; i < g.length; i++) {
            assertEquals(p.dtype() == DType.F32 ? (float) g[i] : g[i], p.grad().getDouble(i), 0, "gradient set by backward");
        }
    }

    /** Runs three steps of the optimizer made by {@code make} from P0 with gradients G; returns the trajectory. */
    static double[][] run(DType dtype, Function<List<Variable>, Optimizer> make) {
        try (Tensor value = dtype == DType.F32 ? Tensor.of(toFloat(P0), 3) : Tensor.of(P0.clone(), 3)) {
            Variable p = Variable.parameter(value, "p");
            double[][] out = new double[3][];
            try (Optimizer opt = make.apply(List.of(p))) {
                for (int t = 0; t < 3; t++) {
                    setGrad(p, G[t]);
                    opt.step();
                    out[t] = value.toDoubleArray();
                    assertEquals(t + 1, opt.steps(p));
                }
            } finally {
                p.releaseGrad();
            }
            return out;
        }
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static void check(double[][] expected, Function<List<Variable>, Optimizer> make, String what) {
        for (DType dt : new DType[]{DType.F64, DType.F32}) {
            double[][] got = run(dt, make);
            double rel = dt == DType.F64 ? 1e-12 : 2e-6, abs = dt == DType.F64 ? 0 : 1e-7;
            for (int t = 0; t < 3; t++) {
                for (int i = 0; i < 3; i++) {
                    double e = expected[t][i];
                    assertEquals(e, got[t][i], rel * Math.abs(e) + abs, what + " " + dt + " step " + (t + 1) + " element " + i);
                }
                // every step moves the parameter (a test that cannot pass by doing nothing)
                assertTrue(got[t][0] != (t == 0 ? P0[0] : got[t - 1][0]), what + ": step " + (t + 1) + " did not change p");
            }
        }
    }

    // ================================================================ SGD

    /** v_t = μ·v_{t−1} + (1−τ)·(g + λp), v_1 = g + λp;  p ← p − η·(nesterov ? g + λp + μ·v_t : v_t). */
    static double[][] sgdReference(double lr, double mu, double tau, double lambda, boolean nesterov) {
        double[] p = P0.clone(), v = new double[3];
        double[][] out = new double[3][];
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 3; i++) {
                double gi = G[t][i] + lambda * p[i];
                if (mu == 0) {
                    p[i] -= lr * gi;
                    continue;
                }
                v[i] = t == 0 ? gi : mu * v[i] + (1 - tau) * gi;
                p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i]);
            }
            out[t] = p.clone();
        }
        return out;
    }

    @Test
    void sgdPlain() {
        check(sgdReference(0.1, 0, 0, 0, false), ps -> Sgd.of(ps, 0.1), "SGD");
        check(sgdReference(0.1, 0, 0, 0.05, false), ps -> Sgd.of(ps, 0.1, 0, 0, 0.05, false), "SGD+wd");
    }

    @Test
    void sgdMomentumDampeningWeightDecay() {
        check(sgdReference(0.05, 0.9, 0.1, 0.01, false), ps -> Sgd.of(ps, 0.05, 0.9, 0.1, 0.01, false), "SGD momentum");
    }

    @Test
    void sgdNesterov() {
        check(sgdReference(0.05, 0.9, 0, 0.02, true), ps -> Sgd.of(ps, 0.05, 0.9, 0, 0.02, true), "SGD Nesterov");
    }

    @Test
    void sgdMomentumByHand() {
        // p = 1, g = 1 every step, lr 0.1, μ 0.9:  v = 1, 1.9, 2.71;  p = 0.9, 0.71, 0.439
        // Nesterov: d = 1.9, 2.71, 3.439;  p = 0.81, 0.539, 0.1951
        double[][] plain = {{0.9}, {0.71}, {0.439}}, nest = {{0.81}, {0.539}, {0.1951}};
        for (boolean nesterov : new boolean[]{false, true}) {
            try (Tensor value = Tensor.of(new double[]{1.0}, 1)) {
                Variable p = Variable.parameter(value, "p");
                try (Sgd opt = Sgd.of(List.of(p), 0.1, 0.9, 0, 0, nesterov)) {
                    for (int t = 0; t < 3; t++) {
                        setGrad(p, new double[]{1});
                        opt.step();
                        assertEquals((nesterov ? nest : plain)[t][0], value.getDouble(0), 1e-12, "nesterov=" + nesterov + " step " + (t + 1));
                    }
                    assertEquals(2.71, opt.state(p).get(Sgd.MOMENTUM_BUFFER).getDouble(0), 1e-12);
                }
                p.releaseGrad();
            }
        }
    }

    // ================================================================ RMSprop

    /**
     * E[g²]_t = α·E[g²] + (1−α)·g²;  centered: E[g]_t = α·E[g] + (1−α)·g, σ = √(E[g²] − E[g]²) + ε, else σ = √E[g²] + ε;
     * momentum: b = μ·b + g/σ, p ← p − η·b; otherwise p ← p − η·g/σ.   (g includes λp)
     */
    static double[][] rmspropReference(double lr, double alpha, double eps, double lambda, double mu, boolean centered) {
        double[] p = P0.clone(), eg2 = new double[3], eg = new double[3], b = new double[3];
        double[][] out = new double[3][];
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 3; i++) {
                double g = G[t][i] + lambda * p[i];
                eg2[i] = alpha * eg2[i] + (1 - alpha) * g * g;
                eg[i] = alpha * eg[i] + (1 - alpha) * g;
                double sigma = Math.sqrt(centered ? eg2[i] - eg[i] * eg[i] : eg2[i]) + eps;
                if (mu > 0) {
                    b[i] = mu * b[i] + g / sigma;
                    p[i] -= lr * b[i];
                } else {
                    p[i] -= lr * g / sigma;
                }
            }
            out[t] = p.clone();
        }
        return out;
    }

    @Test
    void rmspropDefaults() {
        check(rmspropReference(0.01, 0.99, 1e-8, 0, 0, false), ps -> RmsProp.of(ps, 0.01), "RMSprop");
    }

    @Test
    void rmspropCenteredMomentumWeightDecay() {
        check(rmspropReference(0.01, 0.9, 1e-6, 0.1, 0.5, true), ps -> RmsProp.of(ps, 0.01, 0.9, 1e-6, 0.1, 0.5, true), "RMSprop centered");
        check(rmspropReference(0.02, 0.8, 1e-8, 0, 0.3, false), ps -> RmsProp.of(ps, 0.02, 0.8, 1e-8, 0, 0.3, false), "RMSprop momentum");
    }

    // ================================================================ Adam / AdamW / AMSGrad

    /**
     * m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  p ← p − η·m̂/(√v̂ + ε).
     * L2 (Adam): g includes λp. Decoupled (AdamW): p ← p − ηλp first. AMSGrad (PyTorch's form): v_max = max(v_max, v)
     * replaces v before the bias correction.
     */
    static double[][] adamReference(double lr, double b1, double b2, double eps, double lambda, boolean decoupled, boolean amsgrad) {
        double[] p = P0.clone(), m = new double[3], v = new double[3], vmax = new double[3];
        double[][] out = new double[3][];
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 3; i++) {
                double g = G[t - 1][i];
                if (decoupled) p[i] -= lr * lambda * p[i];
                else g += lambda * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                vmax[i] = Math.max(vmax[i], v[i]);
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = (amsgrad ? vmax[i] : v[i]) / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
            out[t - 1] = p.clone();
        }
        return out;
    }

    @Test
    void adamDefaults() {
        check(adamReference(0.01, 0.9, 0.999, 1e-8, 0, false, false), ps -> Adam.of(ps, 0.01), "Adam");
    }

    @Test
    void adamFirstStepMovesByLrTimesSign() {
        // m̂_1 = g, v̂_1 = g², so the first step is −lr·g/(|g| + ε) ≈ −lr·sign(g)
        double[][] r = adamReference(0.01, 0.9, 0.999, 1e-8, 0, false, false);
        for (int i = 0; i < 3; i++) assertEquals(P0[i] - 0.01 * Math.signum(G[0][i]), r[0][i], 1e-8);
    }

    @Test
    void adamL2AndAmsgrad() {
        check(adamReference(0.02, 0.8, 0.9, 1e-8, 0.1, false, false), ps -> Adam.of(ps, 0.02, 0.8, 0.9, 1e-8, 0.1, false), "Adam L2");
        double[][] ams = adamReference(0.02, 0.8, 0.9, 1e-8, 0.1, false, true);
        check(ams, ps -> Adam.of(ps, 0.02, 0.8, 0.9, 1e-8, 0.1, true), "AMSGrad");
        // the max must actually matter for this gradient sequence
        double[][] plain = adamReference(0.02, 0.8, 0.9, 1e-8, 0.1, false, false);
        assertTrue(Math.abs(ams[2][0] - plain[2][0]) > 1e-4, "AMSGrad trajectory equals Adam's: the test would not see the max");
    }

    @Test
    void adamW() {
        check(adamReference(0.01, 0.9, 0.999, 1e-8, 0.01, true, false), ps -> AdamW.of(ps, 0.01), "AdamW");
        check(adamReference(0.05, 0.85, 0.95, 1e-7, 0.2, true, false), ps -> AdamW.of(ps, 0.05, 0.85, 0.95, 1e-7, 0.2, false), "AdamW wd 0.2");
        check(adamReference(0.05, 0.85, 0.9, 1e-7, 0.2, true, true), ps -> AdamW.of(ps, 0.05, 0.85, 0.9, 1e-7, 0.2, true), "AdamW AMSGrad");
        // decoupled decay differs from L2 decay
        double[][] l2 = adamReference(0.05, 0.85, 0.95, 1e-7, 0.2, false, false), dec = adamReference(0.05, 0.85, 0.95, 1e-7, 0.2, true, false);
        assertTrue(Math.abs(l2[2][1] - dec[2][1]) > 1e-4);
    }
}
