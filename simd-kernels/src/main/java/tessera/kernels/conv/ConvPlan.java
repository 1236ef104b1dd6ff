package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.gemm.PackedA;
import tessera.kernels.gemm.PackedB;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Immutable, thread-safe inference plan for one {@link ConvSpec}: the chosen algorithm, its weights pre-packed
 * (direct: channel-blocked; im2col: {@link Gemm#packA}; Winograd: transformed filters U, computed once) and the
 * fused post-ops {@code y = act(conv(x) + bias + residual)}. Works for any batch size (x's first dimension);
 * each call takes scratch from the calling thread's {@link tessera.memory.Workspace} and allocates nothing on the
 * heap in steady state. Weights and bias are copied at creation: later changes to them are not seen.
 * F64 weights give a plan that runs the float64 reference.
 */
public final class ConvPlan implements AutoCloseable {
    private final ConvSpec spec;
    private final ConvGeom geom;
    private final ConvAlgorithm algorithm;
    private final ActivationFn act;
    private final DType dtype;
    private final TensorArena arena = new TensorArena();
    private final Tensor weights, bias;
    private final MemorySegment packed;
    private final PackedA[] packedA;
    /**
     * Small-map pointwise plans: W_gᵀ as the GEMM's right operand ({@link F32ConvPointwiseTransposed}, batch 1 runs);
     * else null.
     */
    private final PackedB[] packedB;
    /** Winograd-transformed filters U (heap: the Winograd GEMM stage reads arrays). */
    private final float[] winogradFilters;

    private ConvPlan(ConvSpec s, ConvAlgorithm a, Tensor w, Tensor b, ActivationFn act) {
        String op = "ConvPlan.create";
        ConvChecks.notNull(op, "spec", s);
        ConvChecks.notNull(op, "activation", act);
        this.dtype = ConvChecks.floatType(op, w);
        ConvChecks.tensor4(op, "w", w, dtype, s.outChannels(), s.inChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.vector(op, "bias", b, dtype, s.outChannels());
        this.spec = s;
        this.geom = s.geom();
        this.algorithm = ConvAlgorithmSelector.resolveForward(a, geom);
        this.act = act;
        this.weights = w.copy(arena);
        this.bias = b == null ? null : b.copy(arena);
        MemorySegment p = null;
        PackedA[] pa = null;
        PackedB[] pb = null;
        float[] wu = null;
        if (dtype == DType.F32) {
            switch (algorithm) {
                case DIRECT -> {
                    if (!F32ConvDepthwise.applies(geom)) { // the depthwise kernel reads the weights as they are
                        p = arena.allocateBytes(F32ConvDirect.packedSize(geom) * 4);
                        F32ConvDirect.packWeights(geom, weights.segment(), weights.offset(), false, p);
                    }
                }
                case IM2COL -> {
                    // a plan made at batch 1 may run larger batches: those fold into the direct form's columns
                    // (ResNet-50's 512→2048 at 7×7, batch 16: 18.5 against 19.9 ms per image loop), so both forms
                    // keep their packed weights
                    if (F32ConvPointwiseTransposed.applies(geom))
                        pb = F32ConvPointwiseTransposed.packWeights(geom, weights.segment(), weights.offset());
                    int kg = geom.kg(), crs = geom.cg() * geom.r() * geom.s();
                    pa = new PackedA[geom.groups()];
                    for (int gi = 0; gi < pa.length; gi++)
                        pa[gi] = Gemm.packA(false, kg, crs, weights.segment(), weights.offset() + (long) gi * kg * crs, crs);
                }
                case WINOGRAD_F2X3, WINOGRAD_F4X3 -> {
                    F32Winograd wino = F32Winograd.of(algorithm);
                    wu = new float[Math.toIntExact(wino.transformedSize(geom))];
                    wino.transformWeights(geom, weights.segment(), weights.offset(), false, wu);
                }
                default -> throw new IllegalStateException("unresolved algorithm " + algorithm);
            }
        }
        this.packed = p;
        this.packedA = pa;
        this.packedB = pb;
        this.winogradFilters = wu;
    }

    /**
     * Creates a plan. {@code w [K, C/g, R, S]}, {@code bias [K]} or null; {@code a} = AUTO or a forced algorithm
     * (IllegalArgumentException if it does not apply); {@code act} (any table activation with its parameters)
     * fused after bias and residual.
     */
    public static ConvPlan create(ConvSpec s, ConvAlgorithm a, Tensor w, Tensor bias, ActivationFn act) {
        return new ConvPlan(s, a, w, bias, act);
    }

    /** The one-scalar form: {@code create(s, a, w, bias, ActivationFn.of(act, alpha))}. */
    public static ConvPlan create(ConvSpec s, ConvAlgorithm a, Tensor w, Tensor bias, Activation act, float alpha) {
        if (act == null) throw new IllegalArgumentException("ConvPlan.create: activation must not be null (use IDENTITY)");
        return create(s, a, w, bias, ActivationFn.of(act, alpha));
    }

    /** The fused activation. */
    public ActivationFn activation() { return act; }

    /** y [N, K, P, Q] = act(conv(x [N, C, H, W]) + bias + residual [N, K, P, Q] (nullable)); any N ≥ 1. */
    public void execute(Tensor x, Tensor residual, Tensor y) {
        String op = "ConvPlan.execute";
        if (x == null || x.rank() != 4) throw new IllegalArgumentException(op + ": x must be a 4-D tensor [N, C, H, W]");
        int n = x.dim(0);
        ConvGeom g = geomFor(n);
        ConvChecks.tensor4(op, "x", x, dtype, n, g.c(), g.h(), g.w());
        ConvChecks.tensor4(op, "y", y, dtype, n, g.k(), g.p(), g.q());
        if (residual != null) ConvChecks.tensor4(op, "residual", residual, dtype, n, g.k(), g.p(), g.q());
        MemorySegment bs = bias == null ? null : bias.segment();
        long bo = bias == null ? 0 : bias.offset();
        MemorySegment rs = residual == null ? null : residual.segment();
        long ro = residual == null ? 0 : residual.offset();
        if (dtype == DType.F64) {
            ConvReference.forward(g, x.segment(), x.offset(), weights.segment(), weights.offset(), bs, bo, y.segment(), y.offset());
            ConvReference.postOps(y.segment(), y.offset(), y.numel(), rs, ro, act);
            return;
        }
        switch (algorithm) {
            case DIRECT -> {
                if (F32ConvDepthwise.applies(g)) {
                    F32ConvDepthwise.forward(g, x.segment(), x.offset(), weights.segment(), weights.offset(), bs, bo, rs,
                            ro, act, y.segment(), y.offset());
                } else {
                    F32ConvDirect.forward(g, x.segment(), x.offset(), g.h(), g.w(), 1, 1, packed, bs, bo, rs, ro,
                            act, y.segment(), y.offset());
                }
            }
            case IM2COL -> {
                if (packedB != null && n == 1) {
                    F32ConvPointwiseTransposed.forward(g, x.segment(), x.offset(), packedB, bs, bo, rs, ro, act, y.segment(), y.offset());
                } else {
                    F32ConvIm2col.forward(g, x.segment(), x.offset(), weights.segment(), weights.offset(), packedA,
                            bs, bo, rs, ro, act, y.segment(), y.offset());
                }
            }
            case WINOGRAD_F2X3, WINOGRAD_F4X3 -> F32Winograd.of(algorithm).forward(g, x.segment(), x.offset(), winogradFilters,
                    bs, bo, rs, ro, act, y.segment(), y.offset());
            default -> throw new IllegalStateException("unresolved algorithm " + algorithm);
        }
    }

    /** The geometry of the last batch size other than the plan's own (immutable; a racy cache is safe). */
    private volatile ConvGeom otherBatch;

    /** The geometry for batch n, without allocating when n is the plan's batch or the last other one seen. */
    private ConvGeom geomFor(int n) {
        if (n == geom.n()) return geom;
        ConvGeom o = otherBatch;
        if (o != null && o.n() == n) return o;
        o = spec.withBatch(n).geom();
        otherBatch = o;
        return o;
    }

    /** The algorithm this plan runs (never AUTO). */
    public ConvAlgorithm algorithm() { return algorithm; }

    /**
     * The kernel that runs, for profiles and plan reports: {@code direct}, {@code dwconv} (the depthwise kernel),
     * {@code im2col+gemm}, {@code gemm} (1×1 stride-1 unpadded: no im2col), {@code gemm|transposed@b1} (the same on maps
     * of at most 64 pixels: batch 1 as Yᵀ = Xᵀ·Wᵀ, larger batches as gemm), {@code winograd_f2x3} or
     * {@code winograd_f4x3}.
     */
    public String describe() {
        return switch (algorithm) {
            case DIRECT -> F32ConvDepthwise.applies(geom) ? "dwconv" : "direct";
            case IM2COL -> spec.kernelH() == 1 && spec.kernelW() == 1 && spec.strideH() == 1 && spec.strideW() == 1
                    && spec.padTop() == 0 && spec.padLeft() == 0 && spec.padBottom() == 0 && spec.padRight() == 0
                    ? (packedB != null ? "gemm|transposed@b1" : "gemm") : "im2col+gemm";
            default -> algorithm.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    public ConvSpec spec() { return spec; }

    /** Frees the packed weights; the plan must not be used afterwards. */
    @Override
    public void close() { arena.close(); }
}
