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
}
