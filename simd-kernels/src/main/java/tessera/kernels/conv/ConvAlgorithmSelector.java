package tessera.kernels.conv;

import java.util.concurrent.ConcurrentHashMap;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Chooses the convolution algorithm for {@link ConvAlgorithm#AUTO}.
 *
 * <p>Heuristic mode (default), from the ConvBench measurements: Winograd F(4×4,3×3) for 3×3 stride-1 dilation-1
 * convolutions with at least 16 input and output channels per group and an output of at least 4×4 pixels
 * (F(2×2,3×3) for smaller outputs); im2col + GEMM (GEMM directly for 1×1 stride-1 unpadded) for dense layers; the
 * direct kernel for grouped/depthwise layers with few output channels per group and for dense ones with few input
 * channels on small maps (LeNet-5's 6→16 5×5).
 *
 * <p>Measured mode ({@link #setMeasured(boolean)} or {@code -Dtessera.conv.measured=true}), like cuDNN's benchmark
 * mode: the first forward call of each geometry times every applicable algorithm once (on scratch tensors of that
 * shape) and caches the fastest; later calls reuse it.
 */
public final class ConvAlgorithmSelector {
    private static volatile boolean measured = Boolean.getBoolean("tessera.conv.measured");
    private static final ConcurrentHashMap<ConvGeom, ConvAlgorithm> CACHE = new ConcurrentHashMap<>();

    private ConvAlgorithmSelector() {}

    /** Turns measured selection on or off (off by default). */
    public static void setMeasured(boolean on) { measured = on; }

    public static boolean isMeasured() { return measured; }

    /** Forgets the measured choices. */
    public static void clearCache() { CACHE.clear(); }

    /** Whether {@code a} can compute convolutions of spec {@code s}. */
    public static boolean applies(ConvAlgorithm a, ConvSpec s) { return applies(a, s.geom()); }

    /** The algorithm {@link ConvAlgorithm#AUTO} uses for the forward convolution of {@code s}. */
    public static ConvAlgorithm choose(ConvSpec s) { return forward(s.geom()); }

    static boolean applies(ConvAlgorithm a, ConvGeom g) {
        return switch (a) {
            case DIRECT, IM2COL, AUTO -> true;
            case WINOGRAD_F2X3, WINOGRAD_F4X3 -> g.isWinogradShape();
        };
    }

    /** Resolves {@code a} for geometry g (AUTO → choice; forced but inapplicable → IllegalArgumentException). */
    static ConvAlgorithm resolveForward(ConvAlgorithm a, ConvGeom g) {
        if (a == null) throw new IllegalArgumentException("convolution algorithm must not be null (use AUTO)");
        if (a == ConvAlgorithm.AUTO) return forward(g);
        requireApplicable(a, g);
        return a;
    }

    static void requireApplicable(ConvAlgorithm a, ConvGeom g) {
        if (!applies(a, g))
            throw new IllegalArgumentException("algorithm " + a + " needs a 3x3 kernel with stride 1 and dilation 1, got kernel "
                    + g.r() + "x" + g.s() + " stride " + g.sh() + "x" + g.sw() + " dilation " + g.dh() + "x" + g.dw());
    }

    static ConvAlgorithm forward(ConvGeom g) {
        if (!measured) return heuristic(g);
        ConvGeom key = new ConvGeom(g.n(), g.c(), g.h(), g.w(), g.k(), g.r(), g.s(), g.sh(), g.sw(), g.pt(), g.pl(),
                g.dh(), g.dw(), g.groups(), g.p(), g.q());
        ConvAlgorithm a = CACHE.get(key);
        if (a == null) {
            a = measure(key);
            CACHE.put(key, a);
        }
        return a;
    }

    static ConvAlgorithm heuristic(ConvGeom g) {
        int cg = g.cg(), kg = g.kg();
        if (g.isWinogradShape() && cg >= 16 && kg >= 16) {
            return (g.p() >= 4 && g.q() >= 4) ? ConvAlgorithm.WINOGRAD_F4X3 : ConvAlgorithm.WINOGRAD_F2X3;
        }
        if (g.groups() > 1) return kg >= 16 ? ConvAlgorithm.IM2COL : ConvAlgorithm.DIRECT; // depthwise and narrow groups: direct
        // Dense: im2col + GEMM, except few input channels into one or two full vectors of output channels on small
        // maps with many products per output, where the direct kernel (vectorized over output channels) skips the
        // im2col copy. Its output tile reaches the NCHW planes one float at a time, so it only pays when each output
        // takes many products and a plane is small. Batch 64, 1 thread, forward, AVX-512 (AVX2): 6->16 5x5 at 14²
        // (150 products, 10×10 out) direct 0.71 (0.91) ms / im2col 1.06 (1.10); at 20² (16×16 out) 1.75 (2.25) /
        // 1.54 (1.66); 3->32 3x3 at 12² 0.83 (1.10) / 0.49 (0.55). The small-ResNet stem 3->32 3x3 at 32², batch
        // 16: 1.6 / 0.59 ms. Strided ones go to im2col: its operand is packed straight from x (MobileNetV2's 3->32
        // 3x3 stride-2 stem at batch 1: direct 1.21 ms, im2col 1.05 ms of CPU time).
        int vl = tessera.kernels.Species.FLOAT.length();
        boolean smallMap = (long) g.p() * g.q() < 256, manyProducts = cg * g.r() * g.s() >= 64;
        if (cg < 16 && kg % vl == 0 && kg <= 2 * vl && g.sh() == 1 && g.sw() == 1 && smallMap && manyProducts)
            return ConvAlgorithm.DIRECT;
        return ConvAlgorithm.IM2COL;
    }

    private static ConvAlgorithm measure(ConvGeom g) {
        ConvAlgorithm best = heuristic(g);
        long bestNs = Long.MAX_VALUE;
        try (Tensor x = Tensor.zeros(DType.F32, g.n(), g.c(), g.h(), g.w());
             Tensor w = Tensor.zeros(DType.F32, g.k(), g.cg(), g.r(), g.s());
             Tensor y = Tensor.zeros(DType.F32, g.n(), g.k(), g.p(), g.q())) {
            tessera.memory.RandomFill.uniform(x, 1, -1, 1);
            tessera.memory.RandomFill.uniform(w, 2, -1, 1);
            for (ConvAlgorithm a : ConvAlgorithm.values()) {
                if (a == ConvAlgorithm.AUTO || !applies(a, g)) continue;
                long t = Long.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    Conv2d.forwardF32(a, g, x.segment(), x.offset(), w.segment(), w.offset(), null, null, 0, null, 0,
                            ActivationFn.IDENTITY, y.segment(), y.offset());
                    t = Math.min(t, System.nanoTime() - t0);
                }
                if (t < bestNs) {
                    bestNs = t;
                    best = a;
                }
            }
        }
        return best;
    }
}
