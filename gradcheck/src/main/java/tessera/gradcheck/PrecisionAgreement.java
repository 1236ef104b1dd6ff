package tessera.gradcheck;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Float32 fast path versus float64 reference for one {@link LayerCase}: the same spec is built in both dtypes, the
 * float64 layer's (randomized) parameters and buffers are rounded to float32 and copied into both, the same
 * float32-representable input and output weighting v are used, and the output, the input gradient and every
 * parameter gradient are compared. A tensor agrees when
 * {@code max|t32 − t64| ≤ tolerance · max(max|t64|, 0.1·S, 1e-3)}, where S is the largest magnitude of any tensor
 * compared in the case: an error bound relative to the tensor's scale, which is what float32 accumulation guarantees
 * (elementwise relative error is meaningless where sums cancel). The floor 0.1·S covers tensors that are themselves
 * the result of cancellation between much larger terms — e.g. the input gradient of batch norm over two values, which
 * is 0 up to ε and comes out of terms the size of the other gradients.
 */
public final class PrecisionAgreement {
    /** Default tolerance: 1e-4 of the tensor's scale (≈ 1700 float32 ulps; sums here have at most a few hundred terms). */
    public static final double TOLERANCE = 1e-4;
    /** Scales below this count as this (errors of near-zero tensors are judged absolutely). */
    public static final double SCALE_FLOOR = 1e-3;
    /** Fraction of the case's largest tensor magnitude below which a tensor's own scale is not used. */
    public static final double CASE_SCALE_FRACTION = 0.1;

    /** Per-tensor result: the scaled error and whether it is within tolerance. */
    public record TensorAgreement(String tensor, double maxAbsError, double scale, double scaledError) {}

    /** Whole result: {@code worst} is the tensor with the largest scaled error. */
    public record Result(boolean passed, double tolerance, List<TensorAgreement> tensors, TensorAgreement worst, String message) {}

    private final LayerGradientChecker builder;

    public PrecisionAgreement(LayerGradientChecker builder) { this.builder = builder; }

    public Result check(LayerCase c, double tolerance) {
        try (Layer l64 = builder.build(c, DType.F64); Layer l32 = builder.build(c, DType.F32)) {
            Map<String, Variable> p64 = l64.parameters(), p32 = l32.parameters();
            for (Map.Entry<String, Variable> e : p64.entrySet()) copyRounded(e.getValue().value(), p32.get(e.getKey()).value());
            Map<String, Tensor> b64 = l64.buffers(), b32 = l32.buffers();
            for (Map.Entry<String, Tensor> e : b64.entrySet()) {
                Tensor other = b32.get(e.getKey());
                if (other != null && e.getValue().dtype().isFloatingPoint() && other.dtype().isFloatingPoint()) copyRounded(e.getValue(), other);
            }
            double[] xs = LayerGradientChecker.inputValues(c);
            for (int i = 0; i < xs.length; i++) xs[i] = (float) xs[i];
            List<TensorAgreement> out = new ArrayList<>();
            try (Scope s = Scope.open()) {
                Variable x64 = input(DType.F64, c, xs), x32 = input(DType.F32, c, xs);
                Variable y64 = l64.forward(x64, new ForwardContext(LayerGradientChecker.forwardSeed(c)));
                Variable y32 = l32.forward(x32, new ForwardContext(LayerGradientChecker.forwardSeed(c)));
                out.add(compare("output", y64.value(), y32.value()));
                SplittableRandom r = new SplittableRandom(0xBEEFL + c.seed());
                double[] v = new double[(int) y64.value().numel()];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble(-1, 1);
                Tensor v64 = Scope.alloc(DType.F64, y64.shape()), v32 = Scope.alloc(DType.F32, y32.shape());
                LayerGradientChecker.write(v64, v);
                LayerGradientChecker.write(v32, v);
                for (Variable p : p64.values()) p.releaseGrad();
                for (Variable p : p32.values()) p.releaseGrad();
                y64.backward(v64);
                y32.backward(v32);
                out.add(compareGrad("input", x64, x32));
                for (String name : p64.keySet()) out.add(compareGrad(name, p64.get(name), p32.get(name)));
                x64.releaseGrad();
                x32.releaseGrad();
            } finally {
                for (Variable p : p64.values()) p.releaseGrad();
                for (Variable p : p32.values()) p.releaseGrad();
            }
            double caseScale = 0;
            for (TensorAgreement t : out) caseScale = Math.max(caseScale, t.scale());
            List<TensorAgreement> scaled = new ArrayList<>();
            for (TensorAgreement t : out) {
                double denom = Math.max(Math.max(t.scale(), CASE_SCALE_FRACTION * caseScale), SCALE_FLOOR);
                scaled.add(new TensorAgreement(t.tensor(), t.maxAbsError(), t.scale(), t.maxAbsError() / denom));
            }
            out = scaled;
            TensorAgreement worst = out.get(0);
            for (TensorAgreement t : out) if (t.scaledError() > worst.scaledError() || Double.isNaN(t.scaledError())) worst = t;
            boolean ok = !Double.isNaN(worst.scaledError()) && worst.scaledError() <= tolerance;
            String msg = String.format("%s: max|f32 − f64| = %.3g at scale %.3g (scaled %.3g, tolerance %.0e)",
                    worst.tensor(), worst.maxAbsError(), worst.scale(), worst.scaledError(), tolerance);
            return new Result(ok, tolerance, out, worst, msg);
        }
    }

    private static Variable input(DType t, LayerCase c, double[] xs) {
        Tensor x = Scope.alloc(t, c.batchShape());
        LayerGradientChecker.write(x, xs);
        return Variable.parameter(x, "input");
    }

    private static void copyRounded(Tensor src64, Tensor dst32) {
        int n = (int) src64.numel();
        Tensor a = src64.reshape(n), b = dst32.reshape(n);
        for (int i = 0; i < n; i++) {
            double r = (float) a.getDouble(i);
            a.set(r, i);
            b.set(r, i);
        }
    }

    private static TensorAgreement compareGrad(String name, Variable v64, Variable v32) {
        Tensor g64 = v64.grad(), g32 = v32.grad();
        if (g64 == null && g32 == null) return new TensorAgreement(name + " (no gradient)", 0, 0, 0);
        if (g64 == null || g32 == null) return new TensorAgreement(name + " gradient present in only one dtype", Double.NaN, 0, Double.NaN);
        return compare(name + " gradient", g64, g32);
    }

    private static TensorAgreement compare(String name, Tensor t64, Tensor t32) {
        double[] a = t64.toDoubleArray(), b = t32.toDoubleArray();
        if (a.length != b.length) return new TensorAgreement(name + " shape differs", Double.NaN, 0, Double.NaN);
        double err = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            err = Double.isNaN(d) ? Double.NaN : Math.max(err, d);
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return new TensorAgreement(name, err, scale, err / Math.max(scale, SCALE_FLOOR));
    }
}
