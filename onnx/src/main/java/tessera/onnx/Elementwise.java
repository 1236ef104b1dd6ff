package tessera.onnx;

/**
 * Scalar semantics of the elementwise ONNX operators, in float64, with the partial derivatives PyTorch uses
 * (ties of Min/Max split the gradient in halves, |x|' = sign x, Pow's exponent gradient is 0 where the base is 0 and
 * the exponent ≥ 0). Constant folding, the inference kernels and the differentiable graph all evaluate these.
 * Comparisons return 1 (true) or 0 (false); booleans are stored as U8 0/1 by the planner and as 0/1 floats without
 * gradient by the differentiable graph.
 */
public enum Elementwise {
    NEG, ABS, SIGN, SQRT, EXP, LOG, RECIPROCAL, ERF, CEIL, FLOOR, SOFTSIGN,
    ADD, SUB, MUL, DIV, POW, MIN, MAX, EQUAL, GREATER, LESS,
    /** PRelu with a slope that broadcasts other than per channel: a ≥ 0 ? a : a·b (PyTorch's gradient: a > 0 ? 1 : b). */
    PRELU;

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    /** True for the one-input operators. */
    public boolean unary() { return ordinal() <= SOFTSIGN.ordinal(); }

    /** True for Equal, Greater and Less (boolean result, no gradient). */
    public boolean comparison() { return this == EQUAL || this == GREATER || this == LESS; }

    /** The unary function. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case SQRT -> Math.sqrt(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case RECIPROCAL -> 1 / x;
            case ERF -> erf(x);
            case CEIL -> Math.ceil(x);
            case FLOOR -> Math.floor(x);
            case SOFTSIGN -> x / (1 + Math.abs(x));
            default -> throw new IllegalStateException(this + " is not unary");
        };
    }

    /** dy/dx of the unary function at x, where y = f(x). */
    public double derivative(double x, double y) {
        return switch (this) {
            case NEG -> -1;
            case ABS -> Math.signum(x);
            case SIGN -> 0;
            case SQRT -> 0.5 / y;
            case EXP -> y;
            case LOG -> 1 / x;
            case RECIPROCAL -> -y * y;
            case ERF -> TWO_OVER_SQRT_PI * Math.exp(-x * x);
            case CEIL, FLOOR -> 0;
            case SOFTSIGN -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x)));
            default -> throw new IllegalStateException(this + " is not unary");
        };
    }

    /** The binary function. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MIN -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case MAX -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case EQUAL -> a == b ? 1 : 0;
            case GREATER -> a > b ? 1 : 0;
            case LESS -> a < b ? 1 : 0;
            case PRELU -> a >= 0 ? a : a * b;
            default -> throw new IllegalStateException(this + " is not binary");
        };
    }

    /** ∂y/∂a at (a, b), y = f(a, b). */
    public double partialA(double a, double b, double y) {
        return switch (this) {
            case ADD, SUB -> 1;
            case MUL -> b;
            case DIV -> 1 / b;
            case POW -> b == 0 ? 0 : b * Math.pow(a, b - 1);
            case MIN -> a < b ? 1 : a == b ? 0.5 : 0;
            case MAX -> a > b ? 1 : a == b ? 0.5 : 0;
            case PRELU -> a > 0 ? 1 : b;
            default -> 0;
        };
    }

    /** ∂y/∂b at (a, b), y = f(a, b). */
    public double partialB(double a, double b, double y) {
        return switch (this) {
            case ADD -> 1;
            case SUB -> -1;
            case MUL -> a;
            case DIV -> -y / b;
            case POW -> a == 0 && b >= 0 ? 0 : y * Math.log(a);
            case MIN -> b < a ? 1 : a == b ? 0.5 : 0;
            case MAX -> b > a ? 1 : a == b ? 0.5 : 0;
            case PRELU -> a > 0 ? 0 : a;
            default -> 0;
        };
    }

    /**
     * The error function to double precision: erf x = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), a series of
     * positive terms (no cancellation); |erf x| = 1 in double precision beyond |x| = 6.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        if (x > 6) return 1;
        if (x < -6) return -1;
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /** erf x = x · Σ ERF_SERIES[n] · x^{2n} for |x| < 0.5: 2/√π · (−1)ⁿ / (n! (2n + 1)), n = 0..8 (the next term is < 3e-11 x). */
    public static final double[] ERF_SERIES = {1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252,
        0.005223977625442188, -0.0008548327023450852, 0.00012055332981789664, -1.492565035840625e-05, 1.6462114365889246e-06};
    /** erfc a = t · exp(−a² + Σ ERFC_CHEB[k] tᵏ), t = 1 / (1 + a/2), a ≥ 0: Numerical Recipes' fit, fractional error < 1.2e-7. */
    public static final double[] ERFC_CHEB = {-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
        1.48851587, -0.82215223, 0.17087277};

    /**
     * The error function for float32 results (the inference kernels' Erf, vectorized in {@code DataOps.ErfMap};
     * {@link #erf} stays the float64 reference): the odd Maclaurin polynomial {@link #ERF_SERIES} for |x| < 0.5, else
     * ±(1 − erfc |x|) with {@link #ERFC_CHEB} — one exp and about 20 multiply-adds instead of the series' up to 200
     * terms. Rounded to float32 its relative error stays below 1.12e-7 (one float32 ulp; ElementwiseErfTest).
     */
    public static double erfF32(double x) {
        double a = Math.abs(x);
        if (a < 0.5) {
            double x2 = x * x, p = ERF_SERIES[8];
            for (int k = 7; k >= 0; k--) p = p * x2 + ERF_SERIES[k];
            return x * p;
        }
        double t = 1 / (1 + 0.5 * a), p = ERFC_CHEB[9];
        for (int k = 8; k >= 0; k--) p = p * t + ERFC_CHEB[k];
        double erfc = t * Math.exp(-a * a + p);
        return x > 0 ? 1 - erfc : x < 0 ? erfc - 1 : x; // NaN stays NaN
    }
}
