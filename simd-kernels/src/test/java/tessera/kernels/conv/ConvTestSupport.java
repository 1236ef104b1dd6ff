package tessera.kernels.conv;

import java.util.ArrayList;
import java.util.List;

import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/** Helpers for the convolution tests: random tensors, absolute-value copies, comparisons with stated tolerances. */
final class ConvTestSupport {
    /** float32 unit roundoff. */
    static final double U = 0x1p-24;

    private ConvTestSupport() {}

    /** Decodes raw in [0, 999] into [lo, hi] monotonically (so shrinking raw toward 0 shrinks the value). */
    static int pick(int raw, int lo, int hi) { return lo + (int) ((long) raw * (hi - lo + 1) / 1000); }

    /**
     * A valid convolution built from independent raw draws; the input size is derived from the output size
     * (H = (P−1)·sh + dh·(R−1) + 1 − pt − pb + extra, extra < sh), paddings clamped so that H ≥ 1.
     */
    static ConvSpec spec(int[] raw) {
        int n = pick(raw[0], 1, 3);
        int groups = pick(raw[1], 1, 3);
        boolean depthwise = raw[2] >= 800;
        int cg = depthwise ? 1 : pick(raw[3], 1, 4);
        int kg = depthwise ? pick(raw[4], 1, 2) : pick(raw[4], 1, 5);
        int r = pick(raw[5], 1, 7), s = pick(raw[6], 1, 7);
        int sh = pick(raw[7], 1, 3), sw = pick(raw[8], 1, 3);
        int dh = pick(raw[9], 1, 3), dw = pick(raw[10], 1, 3);
        int p = pick(raw[11], 1, 6), q = pick(raw[12], 1, 6);
        int extH = dh * (r - 1), extW = dw * (s - 1);
        int pt = Math.min(pick(raw[13], 0, 3), extH), pb = Math.min(pick(raw[14], 0, 3), extH - pt);
        int pl = Math.min(pick(raw[15], 0, 3), extW), pr = Math.min(pick(raw[16], 0, 3), extW - pl);
        int h = (p - 1) * sh + extH + 1 - pt - pb + pick(raw[17], 0, sh - 1);
        int w = (q - 1) * sw + extW + 1 - pl - pr + pick(raw[18], 0, sw - 1);
        return new ConvSpec(n, cg * groups, h, w, kg * groups, r, s, sh, sw, pt, pl, pb, pr, dh, dw, groups);
    }

    /** A valid 3×3 stride-1 dilation-1 convolution (Winograd-applicable), channels up to 24 per group. */
    static ConvSpec winogradSpec(int[] raw) {
        int n = pick(raw[0], 1, 3);
        int groups = pick(raw[1], 1, 2);
        int cg = pick(raw[3], 1, 24), kg = pick(raw[4], 1, 40);
        int p = pick(raw[11], 1, 13), q = pick(raw[12], 1, 13);
        int pt = pick(raw[13], 0, 2), pb = pick(raw[14], 0, 2 - pt), pl = pick(raw[15], 0, 2), pr = pick(raw[16], 0, 2 - pl);
        int h = p + 2 - pt - pb, w = q + 2 - pl - pr;
        return new ConvSpec(n, cg * groups, h, w, kg * groups, 3, 3, 1, 1, pt, pl, pb, pr, 1, 1, groups);
    }

    static Tensor randomF32(long seed, int... shape) {
        return RandomFill.uniform(Tensor.zeros(DType.F32, shape), seed, -1, 1);
    }

    static Tensor abs64(Tensor t) {
        Tensor a = t.to(DType.F64);
        double[] v = a.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
        a.close();
        return Tensor.of(v, t.shape());
    }

    static List<ConvAlgorithm> algorithms(ConvSpec s) {
        List<ConvAlgorithm> out = new ArrayList<>();
        for (ConvAlgorithm a : ConvAlgorithm.values()) if (ConvAlgorithmSelector.applies(a, s)) out.add(a);
        return out;
    }

    /**
     * Max over elements of |got − ref| / (absSum·tolPerUnit + tiny); ≤ 1 passes. absSum = Σ|terms| of each output
     * (the reference applied to absolute values), so the bound is the classical forward-error bound for sums.
     */
    static double worstRatio(Tensor got, Tensor ref, Tensor absSum, double tolPerUnit) {
        return worstRatio(got, ref, absSum, tolPerUnit, 0);
    }

    /** As above with an extra floor {@code floorPerUnit · max_j absSum_j} (Winograd's error follows the tile scale). */
    static double worstRatio(Tensor got, Tensor ref, Tensor absSum, double tolPerUnit, double floorPerUnit) {
        double[] g = got.to(DType.F64).toDoubleArray(), r = ref.toDoubleArray(), a = absSum.toDoubleArray();
        double max = 0;
        for (double v : a) max = Math.max(max, v);
        double worst = 0;
        for (int i = 0; i < g.length; i++) {
            double err = Math.abs(g[i] - r[i]);
            double bound = a[i] * tolPerUnit + floorPerUnit * max + 1e-30;
            if (!(err <= bound * 1e9)) return Double.POSITIVE_INFINITY; // NaN or absurd
            worst = Math.max(worst, err / bound);
        }
        return worst;
    }

    /** Max of |got − ref| / max_j absSum_j (the measured error relative to the output's scale of terms). */
    static double relError(Tensor got, Tensor ref, Tensor absSum) {
        double[] g = got.to(DType.F64).toDoubleArray(), r = ref.toDoubleArray(), a = absSum.toDoubleArray();
        double max = 0, worst = 0;
        for (double v : a) max = Math.max(max, v);
        for (int i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - r[i]));
        return max == 0 ? worst : worst / max;
    }
}
