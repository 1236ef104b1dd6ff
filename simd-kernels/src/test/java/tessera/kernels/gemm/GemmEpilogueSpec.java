package tessera.kernels.gemm;

import static tessera.kernels.gemm.GemmTestSupport.F;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import tessera.kernels.Activation;
import tessera.kernels.ActivationSamples;

/** Which epilogue parts a property case uses; builds them with random values and evaluates them in float64. */
record GemmEpilogueSpec(Activation act, boolean rowBias, boolean colBias, boolean residual) {
    static final int RES_PAD = 3;
    static final long RES_OFF = 5;

    GemmEpilogue build(Arena arena, int m, int n, int seed) {
        MemorySegment rb = rowBias ? GemmTestSupport.randomFloats(arena, m + 2, seed + 11L) : null;
        MemorySegment cb = colBias ? GemmTestSupport.randomFloats(arena, n + 1, seed + 12L) : null;
        MemorySegment res = residual ? GemmTestSupport.randomFloats(arena, RES_OFF + (long) m * (n + RES_PAD), seed + 13L) : null;
        return new GemmEpilogue(rb, 2, cb, 1, ActivationSamples.sample(act, seed), res, RES_OFF, n + RES_PAD);
    }

    double extra(GemmEpilogue ep, int i, int j) {
        double v = 0;
        if (ep.rowBias() != null) v += ep.rowBias().getAtIndex(F, ep.rowBiasOffset() + i);
        if (ep.colBias() != null) v += ep.colBias().getAtIndex(F, ep.colBiasOffset() + j);
        if (ep.residual() != null) v += ep.residual().getAtIndex(F, ep.residualOffset() + (long) i * ep.ldResidual() + j);
        return v;
    }

    double extraMagnitude(GemmEpilogue ep, int i, int j) {
        double v = 0;
        if (ep.rowBias() != null) v += Math.abs(ep.rowBias().getAtIndex(F, ep.rowBiasOffset() + i));
        if (ep.colBias() != null) v += Math.abs(ep.colBias().getAtIndex(F, ep.colBiasOffset() + j));
        if (ep.residual() != null) v += Math.abs(ep.residual().getAtIndex(F, ep.residualOffset() + (long) i * ep.ldResidual() + j));
        return v + 1; // + 1: the activation's own rounding (relative, its output is O(|input|))
    }
}
