package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Winograd filter transform {@code U = G·w·Gᵀ} for every (output, input) channel pair, into the packed layout
 * {@code [group][point][kBlock][Cp][NB]} of {@link F32Winograd}, vectorized over output channels: the weights are
 * first regrouped (one pass, heap copy) so that each tap holds the output channels of an input channel side by side,
 * then each block of VL output channels is transformed with vector FMAs and stored with one contiguous store per
 * point. Runs on every unplanned Winograd call (each forward and input gradient of a training step), so it must cost
 * far less than the convolution: the previous scalar float64 loop was 11% of a ResNet-18 training step.
 */
final class F32WinogradFilters {
    private static final VectorSpecies<Float> SP = F32Winograd.SP;
    private static final int VL = SP.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private F32WinogradFilters() {}

    /** The transform matrix G (α × 3) of F(m×m, 3×3), m = 2 or 4, in float. */
    static float[][] matrix(int m) {
        return m == 2 ? G2 : G4;
    }

    private static final float[][] G2 = {{1, 0, 0}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0, 0, 1}};
    private static final float[][] G4 = {{1 / 4f, 0, 0}, {-1 / 6f, -1 / 6f, -1 / 6f}, {-1 / 6f, 1 / 6f, -1 / 6f},
            {1 / 24f, 1 / 12f, 1 / 6f}, {1 / 24f, -1 / 12f, 1 / 6f}, {0, 0, 1}};

    /**
     * Writes U for geometry g into u (its first {@code transformedSize} floats). {@code adjoint}: w belongs to the
     * convolution whose input gradient g computes (per group transposed and flipped), as in
     * {@link F32ConvDirect#packWeights}.
     */
    static void transform(F32Winograd wino, ConvGeom g, MemorySegment w, long wo, boolean adjoint, float[] u) {
        int alpha = wino.alpha, a2 = alpha * alpha;
        int cg = g.cg(), kg = g.kg(), nb = F32Winograd.nb(g), kbs = F32Winograd.kBlocks(g), cp = F32Winograd.cPad(g);
        int kp = kbs * nb;
        float[][] gm = matrix(wino.m);
        if (cp != cg) Arrays.fill(u, 0, Math.toIntExact(wino.transformedSize(g)), 0f); // padded input channels
        Scratch sc = SCRATCH.get().fit(kg * cg * 9, cg * 9 * kp);
        float[] raw = sc.raw, taps = sc.taps;
        if (kp != kg) Arrays.fill(taps, 0, cg * 9 * kp, 0f); // padded output channels transform to zero
        for (int gi = 0; gi < g.groups(); gi++) {
            MemorySegment.copy(w, F, (wo + (long) gi * kg * cg * 9) * 4, raw, 0, kg * cg * 9);
            regroup(raw, cg, kg, kp, adjoint, taps);
            for (int c = 0; c < cg; c++)
                for (int k0 = 0; k0 < kp; k0 += VL) {
                    int kb = k0 / nb, j = k0 - kb * nb;
                    long base = (((long) gi * a2 * kbs + kb) * cp + c) * nb + j;
                    block(taps, c * 9 * kp + k0, kp, gm, alpha, u, base, (long) kbs * cp * nb);
                }
        }
    }

    /** taps[(c·9 + tap)·kp + k] = the tap of (output k, input c) of one group, flipped and transposed when adjoint. */
    private static void regroup(float[] raw, int cg, int kg, int kp, boolean adjoint, float[] taps) {
        if (!adjoint) {
            // raw [k][c][tap]
            for (int k = 0; k < kg; k++)
                for (int c = 0, src = k * cg * 9; c < cg; c++)
                    for (int t = 0; t < 9; t++, src++) taps[(c * 9 + t) * kp + k] = raw[src];
        } else {
            // raw [c][k][tap] of the forward convolution, whose (c, k) pair is this one's (k, c); taps flipped
            for (int c = 0; c < cg; c++)
                for (int k = 0, src = c * kg * 9; k < kg; k++)
                    for (int t = 0; t < 9; t++, src++) taps[(c * 9 + 8 - t) * kp + k] = raw[src];
        }
    }

    /** U for VL output channels of one input channel: points (i, l) at {@code u[base + (i·α + l)·pointStride]}. */
    private static void block(float[] taps, int at, int kp, float[][] gm, int alpha, float[] u, long base, long pointStride) {
        FloatVector f0 = FloatVector.fromArray(SP, taps, at), f1 = FloatVector.fromArray(SP, taps, at + kp),
                f2 = FloatVector.fromArray(SP, taps, at + 2 * kp), f3 = FloatVector.fromArray(SP, taps, at + 3 * kp),
                f4 = FloatVector.fromArray(SP, taps, at + 4 * kp), f5 = FloatVector.fromArray(SP, taps, at + 5 * kp),
                f6 = FloatVector.fromArray(SP, taps, at + 6 * kp), f7 = FloatVector.fromArray(SP, taps, at + 7 * kp),
                f8 = FloatVector.fromArray(SP, taps, at + 8 * kp);
        for (int i = 0; i < alpha; i++) {
            float[] gi = gm[i];
            // row i of G·w: t_s = Σ_r G[i][r]·w[r][s]
            FloatVector t0 = f0.mul(gi[0]).add(f3.mul(gi[1])).add(f6.mul(gi[2]));
            FloatVector t1 = f1.mul(gi[0]).add(f4.mul(gi[1])).add(f7.mul(gi[2]));
            FloatVector t2 = f2.mul(gi[0]).add(f5.mul(gi[1])).add(f8.mul(gi[2]));
            for (int l = 0; l < alpha; l++) {
                float[] gl = gm[l];
                t0.mul(gl[0]).add(t1.mul(gl[1])).add(t2.mul(gl[2]))
                        .intoArray(u, Math.toIntExact(base + (i * alpha + l) * pointStride));
            }
        }
    }

    /** Per-thread heap scratch: one group's raw weights and the regrouped taps; grow-only. */
    private static final class Scratch {
        float[] raw = new float[0], taps = new float[0];

        Scratch fit(int rawFloats, int tapFloats) {
            if (raw.length < rawFloats) raw = new float[rawFloats];
            if (taps.length < tapFloats) taps = new float[tapFloats];
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
}
