package tessera.autograd;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import tessera.memory.Tensor;

/**
 * The one finite-difference rule behind every gradient check ({@link GradientCheck} for functions of tensors,
 * {@code tessera.gradcheck.LayerGradientChecker} for layers):
 * <ul>
 *   <li>numeric derivative of a scalar L at coordinate i: the central difference (L(θ + εeᵢ) − L(θ − εeᵢ)) / 2ε;</li>
 *   <li>a kink (ReLU at 0, a max tie) lies within ε when the one-sided differences (L₊ − L₀)/ε and (L₀ − L₋)/ε
 *       disagree by more than {@code kinkTolerance·(1 + |numeric|)}: the coordinate is skipped and counted, never
 *       passed;</li>
 *   <li>a coordinate passes when |analytic − numeric| ≤ atol + rtol·|numeric| (PyTorch's gradcheck rule);</li>
 *   <li>tensors with more than {@code maxCoordinates} elements are checked at that many distinct random
 *       coordinates, smaller ones at all of them.</li>
 * </ul>
 */
public final class FiniteDifference {
    private FiniteDifference() {}

    /** The numeric derivative at one coordinate, or a kink (then {@code numeric} is the central difference anyway). */
    public record Probe(double numeric, boolean kink) {}

    /**
     * Perturbs {@code flat[i]} (a rank-1 view of a float64 tensor that {@code loss} reads) by ±ε, evaluates
     * {@code loss} at both points, restores the value and returns the central difference; {@code l0} is L at the
     * unperturbed point.
     */
    public static Probe probe(Tensor flat, int i, double l0, DoubleSupplier loss, GradientCheck.Settings s) {
        double x0 = flat.getDouble(i);
        flat.set(x0 + s.eps(), i);
        double lp = loss.getAsDouble();
        flat.set(x0 - s.eps(), i);
        double lm = loss.getAsDouble();
        flat.set(x0, i);
        double fwd = (lp - l0) / s.eps(), bwd = (l0 - lm) / s.eps(), numeric = (lp - lm) / (2 * s.eps());
        return new Probe(numeric, Math.abs(fwd - bwd) > s.kinkTolerance() * (1 + Math.abs(numeric)));
    }

    /** |analytic − numeric| ≤ atol + rtol·|numeric|. */
    public static boolean passes(double analytic, double numeric, GradientCheck.Settings s) {
        return Math.abs(analytic - numeric) <= tolerance(numeric, s);
    }

    /** The allowed error at {@code numeric}: atol + rtol·|numeric|. */
    public static double tolerance(double numeric, GradientCheck.Settings s) { return s.atol() + s.rtol() * Math.abs(numeric); }

    /** All coordinates of an n-element tensor when n ≤ max, otherwise max distinct ones drawn from {@code rnd}. */
    public static int[] coordinates(int n, int max, SplittableRandom rnd) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        if (n <= max) return all;
        for (int i = 0; i < max; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = all[i]; all[i] = all[j]; all[j] = t;
        }
        return Arrays.copyOf(all, max);
    }
}
