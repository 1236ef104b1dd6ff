package tessera.gradcheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tessera.autograd.FiniteDifference;
import tessera.autograd.GradMode;
import tessera.autograd.GradientCheck;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.LayerRegistry;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Finite-difference verification of a layer's gradients — with respect to its input <em>and every parameter</em> —
 * in float64, by the rule of {@link FiniteDifference}: for L = ⟨v, layer(x)⟩ with a random fixed v, each sampled
 * coordinate θᵢ (of the input or of a parameter, perturbed in place) compares the backpropagated ∂L/∂θᵢ with the
 * central difference; kinks are skipped and counted, never passed.
 *
 * <p>{@link #SETTINGS}: ε = 1e-6, atol = 1e-5, rtol = 1e-3 (PyTorch's gradcheck), at most 32 coordinates per tensor
 * (all of them for smaller tensors), kink tolerance 1e-3. Layers are built in float64 from the case's spec and seed;
 * parameters get their initialization plus uniform noise in [−0.5, 0.5] (so that e.g. batch-norm γ is not 1);
 * inputs and v are uniform in [−1, 1]. Stochastic layers see the same {@link ForwardContext} seed on every
 * evaluation, so dropout masks are fixed and the function is deterministic (which is checked).
 */
public final class LayerGradientChecker {
    /** ε = 1e-6, atol = 1e-5, rtol = 1e-3, 32 coordinates per tensor, kink tolerance 1e-3. */
    public static final GradientCheck.Settings SETTINGS = new GradientCheck.Settings(1e-6, 1e-5, 1e-3, 32, 1e-3);

    private final LayerRegistry registry;
    private final GradientCheck.Settings settings;

    public LayerGradientChecker(LayerRegistry registry) { this(registry, SETTINGS); }

    public LayerGradientChecker(LayerRegistry registry, GradientCheck.Settings settings) {
        this.registry = registry;
        this.settings = settings;
    }

    public GradientCheck.Settings settings() { return settings; }

    /** Builds the case's layer in {@code dtype} with randomized parameters (deterministic in the case's seed). */
    public Layer build(LayerCase c, DType dtype) {
        Layer layer = registry.build(c.spec(), new BuildContext(c.inputShape(), dtype, 1000 + c.seed(), registry, c.type()));
        try {
            SplittableRandom r = new SplittableRandom(0xC0FFEEL * 31 + c.seed());
            for (Variable p : layer.parameters().values()) {
                Tensor flat = p.value().reshape((int) p.value().numel());
                for (int i = 0; i < flat.numel(); i++) flat.set(flat.getDouble(i) + r.nextDouble(-0.5, 0.5), i);
            }
            layer.setTraining(c.training());
            return layer;
        } catch (RuntimeException e) {
            layer.close();
            throw e;
        }
    }

    /** Random input values of the case, uniform in [−1, 1]. */
    public static double[] inputValues(LayerCase c) {
        SplittableRandom r = new SplittableRandom(0x1A9E7L * 31 + c.seed());
        double[] x = new double[(int) c.inputSize()];
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble(-1, 1);
        return x;
    }

    /** The forward seed of the case (dropout masks). */
    public static long forwardSeed(LayerCase c) { return 77 + c.seed(); }

    /** Checks the case; exceptions thrown by the layer become a failed result naming them. */
    public CaseResult check(LayerCase c) { return check(c, null); }

    /**
     * Checks the case at the given input values (row-major, {@link LayerCase#inputSize()} of them) instead of random
     * ones — e.g. exactly at kinks (ReLU at 0, max ties) to see them skipped and counted; null for random.
     */
    public CaseResult check(LayerCase c, double[] inputValues) {
        if (inputValues != null && inputValues.length != c.inputSize()) {
            throw new IllegalArgumentException("inputValues: expected " + c.inputSize() + " values for input "
                    + Arrays.toString(c.batchShape()) + ", got " + inputValues.length);
        }
        Layer layer;
        try {
            layer = build(c, DType.F64);
        } catch (RuntimeException e) {
            return CaseResult.error("building the layer threw " + e);
        }
        try (layer) {
            return check(layer, c, inputValues == null ? inputValues(c) : inputValues);
        } catch (RuntimeException e) {
            return CaseResult.error("forward/backward threw " + e);
        }
    }

    private CaseResult check(Layer layer, LayerCase c, double[] xs) {
        Map<String, Variable> params = layer.parameters();
        List<String> names = new ArrayList<>();
        List<Tensor> tensors = new ArrayList<>();
        List<double[]> analytic = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(0xF00DL * 31 + c.seed());
        try (Scope scope = Scope.open()) {
            Tensor x = Scope.alloc(DType.F64, c.batchShape());
            write(x, xs);
            for (Variable p : params.values()) p.releaseGrad();
            Variable xv = Variable.parameter(x, "input");
            Variable y = layer.forward(xv, new ForwardContext(forwardSeed(c)));
            if (y.dtype() != DType.F64) return CaseResult.error("a float64 layer returned " + y.dtype());
            double[] v = new double[(int) y.value().numel()];
            for (int i = 0; i < v.length; i++) v[i] = rnd.nextDouble(-1, 1);
            if (!y.requiresGrad()) {
                return CaseResult.error("the output does not depend on the input or any parameter in the recorded graph");
            }
            Tensor vt = Scope.alloc(DType.F64, y.shape());
            write(vt, v);
            y.backward(vt);
            names.add("input");
            tensors.add(x);
            analytic.add(gradOrZeros(xv, x));
            xv.releaseGrad();
            for (Map.Entry<String, Variable> e : params.entrySet()) {
                names.add(e.getKey());
                tensors.add(e.getValue().value());
                analytic.add(gradOrZeros(e.getValue(), e.getValue().value()));
                e.getValue().releaseGrad();
            }
            double l0 = evaluate(layer, x, v, c);
            double again = evaluate(layer, x, v, c);
            if (l0 != again) {
                return CaseResult.error("the forward pass is not deterministic: L = " + l0 + " then " + again);
            }
            return compare(layer, c, x, v, l0, names, tensors, analytic, rnd);
        }
    }

    private CaseResult compare(Layer layer, LayerCase c, Tensor x, double[] v, double l0, List<String> names,
                               List<Tensor> tensors, List<double[]> analytic, SplittableRandom rnd) {
        GradientCheck.Settings s = settings;
        double floor = s.atol() / s.rtol();
        double worstRel = 0, worstExcess = -1, wa = 0, wn = 0;
        int worstT = -1, worstI = -1, checked = 0, kinks = 0;
        boolean ok = true;
        for (int k = 0; k < tensors.size(); k++) {
            Tensor t = tensors.get(k);
            int n = (int) t.numel();
            Tensor flat = t.reshape(n);
            double[] a = analytic.get(k);
            for (int i : FiniteDifference.coordinates(n, s.maxCoordinates(), rnd)) {
                FiniteDifference.Probe p = FiniteDifference.probe(flat, i, l0, () -> evaluate(layer, x, v, c), s);
                if (p.kink()) {
                    kinks++;
                    continue;
                }
                double numeric = p.numeric();
                checked++;
                double abs = Math.abs(a[i] - numeric);
                double rel = abs / Math.max(Math.abs(numeric), floor);
                worstRel = Math.max(worstRel, rel);
                boolean pass = FiniteDifference.passes(a[i], numeric, s);
                double excess = abs / FiniteDifference.tolerance(numeric, s);
                // report the first failing coordinate; while passing, the one closest to its tolerance
                if ((ok && !pass) || (ok && excess > worstExcess)) {
                    worstExcess = excess; worstT = k; worstI = i; wa = a[i]; wn = numeric;
                }
                if (!pass) ok = false;
            }
        }
        if (worstT < 0) {
            return new CaseResult(true, null, -1, new int[0], 0, 0, 0, checked, kinks, "ok (no coordinate checked)");
        }
        int[] coord = unravel(worstI, tensors.get(worstT).shape());
        String msg = ok ? "ok" : String.format("analytic %.8g vs numeric %.8g (|diff| %.3g > %.0e + %.0e·|numeric|)%s",
                wa, wn, Math.abs(wa - wn), s.atol(), s.rtol(), wa == 0 && wn != 0 ? " — no gradient reached it" : "");
        return new CaseResult(ok, names.get(worstT), worstI, coord, wa, wn, worstRel, checked, kinks, msg);
    }

    private static double[] gradOrZeros(Variable v, Tensor value) {
        Tensor g = v.grad();
        return g == null ? new double[(int) value.numel()] : g.toDoubleArray();
    }

    private static double evaluate(Layer layer, Tensor x, double[] v, LayerCase c) {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            double[] y = layer.forward(Variable.constant(x), new ForwardContext(forwardSeed(c))).value().toDoubleArray();
            double l = 0;
            for (int i = 0; i < y.length; i++) l += v[i] * y[i];
            return l;
        }
    }

    static void write(Tensor t, double[] values) {
        Tensor flat = t.reshape((int) t.numel());
        for (int i = 0; i < values.length; i++) flat.set(values[i], i);
    }

    static int[] unravel(int flat, int[] shape) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return c;
    }
}
