package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.PostOps;
import tessera.kernels.eltwise.Binary;
import tessera.kernels.gemm.PackedA;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * 2-D convolution (PyTorch/ONNX cross-correlation, see {@link ConvSpec}) forward and backward.
 *
 * <p>Layouts: {@code x [N, C, H, W]}, {@code w [K, C/groups, R, S]}, {@code bias [K]} (nullable),
 * {@code y [N, K, P, Q]}, all contiguous NCHW of one dtype. {@code F32} runs the chosen fast algorithm,
 * {@code F64} the float64 reference (the algorithm is then only validated). Outputs are overwritten.
 * A forced algorithm that does not apply to the shape throws {@link IllegalArgumentException}.
 *
 * <p>Backward per algorithm: DIRECT computes the input gradient as a stride-1 direct convolution of the
 * stride-upsampled dy with transposed, flipped weights and the weight gradient with a direct kernel vectorized over
 * output channels; IM2COL uses GEMM + col2im for the input gradient (AUTO takes {@link F32ConvInputGradPhases}, one
 * stride-1 correlation per stride phase without a column matrix, for strided dense layers it serves) and, for the weight gradient, the channel-last
 * implicit GEMM {@link F32ConvWeightGradNhwc} (dense non-1×1 layers), one GEMM over the batch on the picked pixels
 * (strided 1×1) or GEMM with colᵀ per image (1×1 on x itself, grouped); WINOGRAD computes the input gradient (itself a 3×3 stride-1 convolution) with Winograd, and the weight
 * gradient of a dense layer in the Winograd domain too
 * ({@link F32WinogradWeightGrad}: dU = Σ_tiles (A·dY·Aᵀ) ⊙ (Bᵀ·d·B), dW = Gᵀ·dU·G); grouped layers take the
 * im2col path for it.
 *
 * <p>Unplanned calls (autograd's: the weights change every training step) pack IM2COL weights once per call into
 * reused per-thread arrays and run the planned whole-batch paths; Winograd filters are transformed once per call.
 * Nothing derived from the weights outlives a call, so an in-place weight update is always seen.
 */
public final class Conv2d {
    private Conv2d() {}

    /** y = act(conv(x, w) + bias + post.residual); post may be null (none). */
    public static void forward(ConvSpec s, ConvAlgorithm a, Tensor x, Tensor w, Tensor bias, PostOps post, Tensor y) {
        String op = "Conv2d.forward";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, x);
        ConvChecks.tensor4(op, "x", x, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        ConvChecks.tensor4(op, "w", w, d, s.outChannels(), s.inChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.vector(op, "bias", bias, d, s.outChannels());
        ConvChecks.tensor4(op, "y", y, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        Tensor res = post == null ? null : post.residual();
        if (res != null) ConvChecks.tensor4(op, "residual", res, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ActivationFn act = post == null ? ActivationFn.IDENTITY : post.activation();
        ConvGeom g = s.geom();
        ConvAlgorithm alg = ConvAlgorithmSelector.resolveForward(a, g);
        if (d == DType.F64) {
            ConvReference.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                    bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), y.segment(), y.offset());
            ConvReference.postOps(y.segment(), y.offset(), y.numel(), res == null ? null : res.segment(),
                    res == null ? 0 : res.offset(), act);
            return;
        }
        forwardF32(alg, g, x.segment(), x.offset(), w.segment(), w.offset(), null,
                bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(),
                res == null ? null : res.segment(), res == null ? 0 : res.offset(), act, y.segment(), y.offset());
    }

    /** dx = ∂L/∂x given dy = ∂L/∂y (the transposed convolution of dy); dx overwritten. */
    public static void backwardData(ConvSpec s, ConvAlgorithm a, Tensor dy, Tensor w, Tensor dx) {
        backwardData(s, a, dy, w, dx, null);
    }

    /**
     * dx = addend + ∂L/∂x (dx overwritten; addend [N, C, H, W] like dx, may be null, must not share dx's memory): a
     * gradient already pending for x added in the same call — by the Winograd path while it writes dx, by col2im
     * plane by plane, by the other paths in a pass over dx after it.
     */
    public static void backwardData(ConvSpec s, ConvAlgorithm a, Tensor dy, Tensor w, Tensor dx, Tensor addend) {
        String op = "Conv2d.backwardData";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, dy);
        ConvChecks.tensor4(op, "dy", dy, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ConvChecks.tensor4(op, "w", w, d, s.outChannels(), s.inChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.tensor4(op, "dx", dx, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        if (addend != null) {
            ConvChecks.tensor4(op, "addend", addend, d, s.batch(), s.inChannels(), s.inH(), s.inW());
            if (sharesMemory(addend, dx))
                throw new IllegalArgumentException(op + ": addend must not share memory with dx");
        }
        ConvGeom g = s.geom();
        ConvAlgorithm alg = resolveBackwardData(a, g);
        boolean added;
        if (d == DType.F64) {
            ConvReference.backwardData(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
            added = false;
        } else {
            MemorySegment as = addend == null ? null : addend.segment();
            long ao = addend == null ? 0 : addend.offset();
            added = a == ConvAlgorithm.AUTO
                    ? backwardDataAutoF32(alg, g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset(), as, ao)
                    : backwardDataF32(alg, g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset(), as, ao);
        }
        if (addend != null && !added) Binary.apply(Binary.Op.ADD, dx, addend, dx);
    }

    /** dw = ∂L/∂w and (when non-null) dbias = ∂L/∂bias = Σ_{n,p,q} dy; both overwritten. */
    public static void backwardWeights(ConvSpec s, ConvAlgorithm a, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        String op = "Conv2d.backwardWeights";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, x);
        ConvChecks.tensor4(op, "x", x, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        ConvChecks.tensor4(op, "dy", dy, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ConvChecks.tensor4(op, "dw", dw, d, s.outChannels(), s.inChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.vector(op, "dbias", dbias, d, s.outChannels());
        ConvGeom g = s.geom();
        ConvAlgorithm alg = resolveBackwardWeights(a, g);
        MemorySegment db = dbias == null ? null : dbias.segment();
        long dbo = dbias == null ? 0 : dbias.offset();
        if (d == DType.F64) {
            ConvReference.backwardWeights(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), db, dbo);
            return;
        }
        if (a == ConvAlgorithm.AUTO && alg == ConvAlgorithm.IM2COL && F32ConvWeightGradRows.applies(g)) {
            // few input channels: vectorized along the output rows, without the channel-last copies of the
            // implicit GEMM (figures in F32ConvWeightGradRows); AUTO only, so IM2COL still names that GEMM
            F32ConvWeightGradRows.backwardWeights(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset());
            if (db != null) F32ConvDirect.biasGrad(g, dy.segment(), dy.offset(), db, dbo);
            return;
        }
        backwardWeightsF32(alg, g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), db, dbo);
    }

    /** Whether the memory behind a and b overlaps (whole segments compared: views of one block count as overlapping). */
    private static boolean sharesMemory(Tensor a, Tensor b) {
        MemorySegment x = a.segment(), y = b.segment();
        if (x.isNative() != y.isNative()) return false;
        if (!x.isNative()) return x.heapBase().orElse(null) == y.heapBase().orElse(null);
        return x.address() < y.address() + y.byteSize() && y.address() < x.address() + x.byteSize();
    }

    // ------------------------------------------------------------------ internal dispatch (geometry level)

    static ConvAlgorithm resolveBackwardData(ConvAlgorithm a, ConvGeom g) {
        if (a == null) throw new IllegalArgumentException("convolution algorithm must not be null (use AUTO)");
        if (a != ConvAlgorithm.AUTO) {
            ConvAlgorithmSelector.requireApplicable(a, g);
            return a;
        }
        // F4 from 4×4 maps, as the forward (ResNet-18's 512-channel layers at 7², batch 16, 1 thread: F2 51.6 ms per
        // input gradient, F4 38.4 ms; the weight gradient 51.3 -> 35.3 ms)
        if (g.isWinogradShape() && g.cg() >= 16 && g.kg() >= 16)
            return g.h() >= 4 && g.w() >= 4 ? ConvAlgorithm.WINOGRAD_F4X3 : ConvAlgorithm.WINOGRAD_F2X3;
        // dense: GEMM + col2im (LeNet-5 at batch 64, 1 thread: 6->16 5x5 input gradient direct 5.9 ms / im2col 3.0 ms)
        if (g.groups() == 1) return ConvAlgorithm.IM2COL;
        return ConvAlgorithm.DIRECT;
    }

    static ConvAlgorithm resolveBackwardWeights(ConvAlgorithm a, ConvGeom g) {
        if (a == null) throw new IllegalArgumentException("convolution algorithm must not be null (use AUTO)");
        if (a != ConvAlgorithm.AUTO) {
            ConvAlgorithmSelector.requireApplicable(a, g);
            return a;
        }
        if (F32WinogradWeightGrad.applies(g) && g.cg() >= 16 && g.kg() >= 16) // F4 from 4×4 maps: see resolveBackwardData
            return g.h() >= 4 && g.w() >= 4 ? ConvAlgorithm.WINOGRAD_F4X3 : ConvAlgorithm.WINOGRAD_F2X3;
        return g.groups() == 1 && g.kg() >= 16 ? ConvAlgorithm.IM2COL : ConvAlgorithm.DIRECT;
    }

    /** float32 forward with a resolved algorithm; packedA (per group) only for IM2COL plans, else null. */
    static void forwardF32(ConvAlgorithm alg, ConvGeom g, MemorySegment x, long xo, MemorySegment w, long wo, PackedA[] packedA,
                           MemorySegment bias, long bo, MemorySegment res, long ro, ActivationFn act,
                           MemorySegment y, long yo) {
        switch (alg) {
            case DIRECT -> {
                if (F32ConvDepthwise.applies(g)) {
                    F32ConvDepthwise.forward(g, x, xo, w, wo, bias, bo, res, ro, act, y, yo);
                    return;
                }
                MemorySegment pw = tessera.memory.Workspace.ofCurrentThread().floats(F32ConvDirect.PACKED_WEIGHTS, F32ConvDirect.packedSize(g));
                F32ConvDirect.packWeights(g, w, wo, false, pw);
                F32ConvDirect.forward(g, x, xo, g.h(), g.w(), 1, 1, pw, bias, bo, res, ro, act, y, yo);
            }
            case IM2COL -> F32ConvIm2col.forward(g, x, xo, w, wo, packedA, bias, bo, res, ro, act, y, yo);
            case WINOGRAD_F2X3, WINOGRAD_F4X3 -> {
                F32Winograd wino = F32Winograd.of(alg);
                float[] u = F32Winograd.filterScratch(wino.transformedSize(g));
                wino.transformWeights(g, w, wo, false, u);
                wino.forward(g, x, xo, u, bias, bo, res, ro, act, y, yo);
            }
            default -> throw new IllegalArgumentException("unresolved algorithm " + alg);
        }
    }

    /**
     * AUTO's float32 input gradient with alg resolved by {@link #resolveBackwardData}: strided dense layers that
     * {@link F32ConvInputGradPhases} serves take it (one stride-1 correlation per stride phase, no column matrix;
     * small ResNet b16, paired training steps: 36.30 → 35.85 ms on 1 thread, 24.16 → 23.68 ms on 2), the rest
     * {@link #backwardDataF32}. Only AUTO, so that IM2COL still names GEMM + col2im. Returns whether add was added.
     */
    static boolean backwardDataAutoF32(ConvAlgorithm alg, ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo,
                                       MemorySegment dx, long dxo, MemorySegment add, long addo) {
        if (alg == ConvAlgorithm.IM2COL && F32ConvInputGradPhases.applies(g)) {
            F32ConvInputGradPhases.backwardData(g, dy, dyo, w, wo, dx, dxo, add, addo);
            return true;
        }
        return backwardDataF32(alg, g, dy, dyo, w, wo, dx, dxo, add, addo);
    }

    static void backwardDataF32(ConvAlgorithm alg, ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo,
                                MemorySegment dx, long dxo) {
        backwardDataF32(alg, g, dy, dyo, w, wo, dx, dxo, null, 0);
    }

    /**
     * As above with an addend (NCHW like dx, from float addo; null: none) that the path adds itself where it can —
     * Winograd as its output pass's residual, col2im per task's planes while in cache; returns whether it did (false
     * leaves dx without it, for the caller's pass).
     */
    static boolean backwardDataF32(ConvAlgorithm alg, ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo,
                                   MemorySegment dx, long dxo, MemorySegment add, long addo) {
        switch (alg) {
            case DIRECT -> {
                F32ConvDirect.backwardData(g, dy, dyo, w, wo, dx, dxo);
                return add == null;
            }
            case IM2COL -> {
                return F32ConvIm2col.backwardData(g, dy, dyo, w, wo, dx, dxo, add, addo);
            }
            case WINOGRAD_F2X3, WINOGRAD_F4X3 -> {
                ConvGeom a = F32ConvDirect.adjointCached(g); // stride 1 here, so no upsampling
                F32Winograd wino = F32Winograd.of(alg);
                float[] u = F32Winograd.filterScratch(wino.transformedSize(a));
                wino.transformWeights(a, w, wo, true, u);
                wino.forward(a, dy, dyo, u, null, 0, add, addo, ActivationFn.IDENTITY, dx, dxo);
                return true;
            }
            default -> throw new IllegalArgumentException("unresolved algorithm " + alg);
        }
    }

    static void backwardWeightsF32(ConvAlgorithm alg, ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                   MemorySegment dw, long dwo, MemorySegment db, long dbo) {
        switch (alg) {
            case DIRECT -> F32ConvDirect.backwardWeights(g, x, xo, dy, dyo, dw, dwo, db, dbo);
            case WINOGRAD_F2X3, WINOGRAD_F4X3 -> {
                if (!F32WinogradWeightGrad.applies(g)) { // grouped: the im2col path
                    F32ConvIm2col.backwardWeights(g, x, xo, dy, dyo, dw, dwo, db, dbo);
                    return;
                }
                F32WinogradWeightGrad.backwardWeights(F32Winograd.of(alg), g, x, xo, dy, dyo, dw, dwo);
                if (db != null) F32ConvDirect.biasGrad(g, dy, dyo, db, dbo);
            }
            case IM2COL -> F32ConvIm2col.backwardWeights(g, x, xo, dy, dyo, dw, dwo, db, dbo);
            default -> throw new IllegalArgumentException("unresolved algorithm " + alg);
        }
    }
}
