package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;

import tessera.kernels.ActivationFn;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.gemm.GemmEpilogue;
import tessera.kernels.gemm.PackedB;
import tessera.kernels.layout.F32Transpose;
import tessera.memory.Workspace;

/**
 * f32-conv-1x1-transposed: a planned pointwise convolution on small maps computed as {@code Y_gᵀ [P·Q × K/g] =
 * X_gᵀ · W_gᵀ} per image and group, then transposed into NCHW. In the direct form {@code Y_g = W_g·X_g} the P·Q
 * output pixels are the GEMM's columns, and a 7×7 map (49 pixels) fills one full and one barely used NR-wide tile;
 * transposed, the output channels are the columns (hundreds, all full vectors) and the pixels the rows. W_gᵀ is
 * packed once at plan time ({@link PackedB}); bias and an activation are applied in the GEMM's store, a residual
 * (which is in NCHW) with the activation after the transpose. Scratch: workspace slot {@link #OUT_T}.
 */
final class F32ConvPointwiseTransposed {
    /** The transposed output of one image and group (P·Q × K/g). */
    static final Workspace.Slot OUT_T = Workspace.slot("conv.pointwise.transposed-output");

    /** Output maps of at most this many pixels use the transposed form (one NR tile of 32 columns or less). */
    static final int MAX_PIXELS = 64;

    private F32ConvPointwiseTransposed() {}

    /**
     * True when a planned pointwise convolution of geometry g should use this form: planned for batch 1 (batches fold
     * into the direct form's columns instead), maps of at most {@link #MAX_PIXELS} pixels, at least two vectors of
     * output channels per group. Measured (thread CPU time, 1 thread, AVX-512): ResNet-50's 512→2048 1×1 at 7×7
     * 1.35 → 1.14 ms, MobileNetV2's 320→1280 0.58 → 0.45 ms, 960→320 0.41 → 0.37 ms; at batch 16 the folded direct
     * form stays ahead (18.5 vs 19.9 ms).
     */
    static boolean applies(ConvGeom g) {
        return g.n() == 1 && g.isPointwise() && g.p() * g.q() <= MAX_PIXELS
                && g.kg() >= 2 * tessera.kernels.Species.FLOAT.length();
    }

    /** W_gᵀ of every group (w is [K, C/g, 1, 1] at element offset wo), packed as the GEMM's right operand. */
    static PackedB[] packWeights(ConvGeom g, MemorySegment w, long wo) {
        PackedB[] packed = new PackedB[g.groups()];
        for (int gi = 0; gi < packed.length; gi++) {
            packed[gi] = Gemm.packB(true, g.cg(), g.kg(), w, wo + (long) gi * g.kg() * g.cg(), g.cg());
        }
        return packed;
    }

    /** y = act(conv(x) + bias + residual) for every image. */
    static void forward(ConvGeom g, MemorySegment x, long xo, PackedB[] packed, MemorySegment bias, long bo,
                        MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q();
        long inImage = (long) g.c() * pq, outImage = (long) g.k() * pq;
        MemorySegment outT = Workspace.ofCurrentThread().floats(OUT_T, (long) pq * kg);
        ActivationFn storeAct = res == null ? act : ActivationFn.IDENTITY;
        for (int n = 0; n < g.n(); n++) {
            for (int gi = 0; gi < g.groups(); gi++) {
                GemmEpilogue ep = bias == null && storeAct.isIdentity() ? null
                        : GemmEpilogueCache.ofColumnBias(bias, bias == null ? 0 : bo + (long) gi * kg, storeAct);
                long xg = xo + n * inImage + (long) gi * cg * pq, yg = yo + n * outImage + (long) gi * kg * pq;
                Gemm.sgemm(true, pq, x, xg, pq, packed[gi], outT, 0, kg, ep);
                F32Transpose.transpose(outT, 0, kg, y, yg, pq, pq, kg);
                if (res != null) ConvEpilogue.apply(y, yg, kg * pq, 0f, res, ro + n * outImage + (long) gi * kg * pq, act);
            }
        }
    }
}
