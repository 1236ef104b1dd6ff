package tessera.kernels.eltwise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.function.Function;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/** Test helpers shared by the eltwise, reduce and norm kernel tests. */
public final class KernelChecks {
    /** Central-difference step and pass rule, PyTorch gradcheck defaults. */
    public static final double FD_EPS = 1e-6, FD_ATOL = 1e-5, FD_RTOL = 1e-3;

    private KernelChecks() {}

    /** A float32 tensor with U[lo, hi) values. */
    public static Tensor uniform(long seed, double lo, double hi, int... shape) {
        return RandomFill.uniform(Tensor.zeros(DType.F32, shape), seed, lo, hi);
    }

    /** Uniform values with |v| >= gap (away from kinks at 0). */
    public static Tensor awayFromZero(long seed, double hi, double gap, int... shape) {
        Tensor t = uniform(seed, -hi, hi, shape);
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) if (Math.abs(v[i]) < gap) v[i] = v[i] < 0 ? -gap - Math.abs(v[i]) : gap + v[i];
        Tensor out = Tensor.of(toFloats(v), shape);
        t.close();
        return out;
    }

    public static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    /** Asserts |actual − expected| <= atol + rtol·|expected| elementwise (NaN must match NaN). */
    public static void assertClose(Tensor actual, Tensor expected, double atol, double rtol, String what) {
        assertClose(actual.toDoubleArray(), expected.toDoubleArray(), atol, rtol, what);
    }

    public static void assertClose(double[] a, double[] e, double atol, double rtol, String what) {
        assertEquals(e.length, a.length, what + ": length");
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(e[i]) && Double.isNaN(a[i])) continue;
            if (e[i] == a[i]) continue;
            double tol = atol + rtol * Math.abs(e[i]);
            if (!(Math.abs(a[i] - e[i]) <= tol)) {
                fail(what + ": element " + i + " is " + a[i] + ", expected " + e[i] + " ± " + tol + " (|diff| "
                        + Math.abs(a[i] - e[i]) + ")");
            }
        }
    }

    /**
     * Central-difference gradient check: {@code loss} maps a float64 input to a scalar; {@code analytic} is the
     * claimed gradient at {@code x0}. Every coordinate is checked.
     */
    public static void gradCheck(double[] x0, Function<double[], Double> loss, double[] analytic, String what) {
        for (int i = 0; i < x0.length; i++) {
            double[] xp = x0.clone(), xm = x0.clone();
            xp[i] += FD_EPS;
            xm[i] -= FD_EPS;
            double numeric = (loss.apply(xp) - loss.apply(xm)) / (2 * FD_EPS);
            double tol = FD_ATOL + FD_RTOL * Math.abs(numeric);
            if (!(Math.abs(analytic[i] - numeric) <= tol)) {
                fail(what + ": d/dx[" + i + "] analytic " + analytic[i] + " vs numeric " + numeric + " (x = " + Arrays.toString(x0) + ")");
            }
        }
    }

    /** Σ v_i·t_i. */
    public static double dot(double[] v, Tensor t) {
        double[] a = t.toDoubleArray();
        double s = 0;
        for (int i = 0; i < a.length; i++) s += v[i] * a[i];
        return s;
    }
}
