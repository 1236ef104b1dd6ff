package tessera.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Finite-difference verification of analytic gradients of a function of tensors, in float64.
 *
 * <p>For a function f of several tensors, the scalar L = ⟨v, f(x)⟩ with a random fixed v is differentiated twice:
 * by backpropagation, and numerically by the rule of {@link FiniteDifference} (central differences, kinks skipped and
 * counted in {@link Result#skippedKinks()}, PyTorch's pass rule; defaults ε = 1e-6, atol = 1e-5, rtol = 1e-3, at most
 * {@code maxCoordinates} distinct coordinates per input).
 */
public final class GradientCheck {
    private GradientCheck() {}

    /** Settings; {@link #DEFAULT} matches PyTorch's gradcheck. */
    public record Settings(double eps, double atol, double rtol, int maxCoordinates, double kinkTolerance) {
        public static final Settings DEFAULT = new Settings(1e-6, 1e-5, 1e-3, 64, 1e-3);
    }

    /** Worst error found, where, and how many coordinates were checked or skipped at kinks. */
    public record Result(boolean passed, double worstAbsError, double worstRelError, int worstInput, int worstCoordinate,
                         double analytic, double numeric, int checked, int skippedKinks, String message) {}

    /** Checks f at {@code inputs} (float64 tensors; each becomes a parameter). */
    public static Result check(Function<List<Variable>, Variable> f, List<Tensor> inputs, long seed, Settings s) {
        for (Tensor t : inputs) {
            if (t.dtype() != DType.F64) throw new IllegalArgumentException("gradient checks run in float64; got an input of " + t.dtype());
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Scope outer = Scope.open()) {
            List<Tensor> xs = new ArrayList<>();
            for (Tensor t : inputs) xs.add(Ops.copyOf(t.contiguous()));
            // analytic gradient of L = <v, f(x)>
            List<Variable> vars = new ArrayList<>();
            for (Tensor t : xs) vars.add(Variable.parameter(t));
            Variable y = f.apply(vars);
            Tensor v = Scope.alloc(DType.F64, y.shape());
            double[] vv = new double[(int) v.numel()];
            for (int i = 0; i < vv.length; i++) vv[i] = rnd.nextDouble(-1, 1);
            Pointwise.write(v, vv);
            if (!y.requiresGrad()) {
                return new Result(false, Double.NaN, Double.NaN, -1, -1, 0, 0, 0, 0, "the output does not depend on any input");
            }
            y.backward(v);
            double worstAbs = 0, worstRel = 0, wa = 0, wn = 0;
            int worstIn = -1, worstCo = -1, checked = 0, kinks = 0;
            boolean ok = true;
            double l0 = evaluate(f, xs, vv);
            for (int k = 0; k < xs.size(); k++) {
                Tensor g = vars.get(k).grad();
                double[] analytic = g == null ? new double[(int) xs.get(k).numel()] : g.toDoubleArray();
                vars.get(k).releaseGrad();
                Tensor flat = xs.get(k).reshape((int) xs.get(k).numel());
                int n = analytic.length;
                for (int i : FiniteDifference.coordinates(n, s.maxCoordinates(), rnd)) {
                    FiniteDifference.Probe p = FiniteDifference.probe(flat, i, l0, () -> evaluate(f, xs, vv), s);
                    if (p.kink()) {
                        kinks++;
                        continue;
                    }
                    double numeric = p.numeric();
                    checked++;
                    double abs = Math.abs(analytic[i] - numeric);
                    double rel = abs / Math.max(Math.abs(numeric), 1e-12);
                    boolean pass = FiniteDifference.passes(analytic[i], numeric, s);
                    if ((!pass && ok) || (pass == ok && abs > worstAbs)) {
                        worstAbs = abs; worstRel = rel; worstIn = k; worstCo = i; wa = analytic[i]; wn = numeric;
                    }
                    if (!pass) ok = false;
                }
            }
            String msg = ok ? "ok" : String.format("input %d, coordinate %d: analytic %.8g vs numeric %.8g (|diff| %.3g, rel %.3g)",
                    worstIn, worstCo, wa, wn, worstAbs, worstRel);
            return new Result(ok, worstAbs, worstRel, worstIn, worstCo, wa, wn, checked, kinks, msg);
        }
    }

    private static double evaluate(Function<List<Variable>, Variable> f, List<Tensor> xs, double[] v) {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            List<Variable> cs = new ArrayList<>();
            for (Tensor t : xs) cs.add(Variable.constant(t));
            double[] y = f.apply(cs).value().toDoubleArray();
            double l = 0;
            for (int i = 0; i < y.length; i++) l += v[i] * y[i];
            return l;
        }
    }
}
