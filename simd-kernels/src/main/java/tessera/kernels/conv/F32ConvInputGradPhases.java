package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.layout.F32PlaneRows;
import tessera.memory.Workspace;

/**
 * f32-conv-dgrad-phases-6x2v: the input gradient of a strided dense convolution (groups 1, dilation 1) by stride
 * phases, with no column matrix and no col2im. Input pixel h receives only the taps r ≡ (h + pt) mod sh (and
 * likewise columns), so the pixels of one phase (a, b) = ((h + pt) mod sh, (w + pl) mod sw) form a stride-1
 * correlation of dy with the sub-kernel of those taps:
 * <pre>
 *   dx[c][sh·i + a − pt][sw·j + b − pl] = Σ_k Σ_{t,u} W[k][c][a + sh·t][b + sw·u] · dy[k][i − t][j − u]
 * </pre>
 * (3×3 stride 2: sub-kernels of 4, 2, 2 and 1 taps; every tap used once, nothing multiplied by an inserted zero).
 *
 * <p>Per image: dy is copied channel-last with zero borders ({@code dyp [rows][Wd][K]}); each phase's pixels are taken
 * on a grid of the same row pitch Wd, so that a run of 6 grid pixels is 6 consecutive dyp pixels for every tap (the
 * grid's columns beyond the phase's are computed and dropped: 1 in 17 for ResNet's 16-wide maps); the register tile
 * holds 6 pixels × 2 vectors of input channels and, per tap and output channel k, broadcasts 6 dy values and loads 2
 * vectors of the packed weights ({@code [tap][k][Cp]}) — an affine loop over k whose bounds checks the JIT hoists. The
 * tile's valid pixels go to a channel-last dx image, transposed to NCHW with the addend added per plane. Images are
 * split over the threads. The column-matrix path it replaces had M = C·R·S rows and a col2im that read them back from
 * memory (figures at {@link #applies}). Also the forward pass of strided transposed convolutions, the same computation.
 */
final class F32ConvInputGradPhases {
    private F32ConvInputGradPhases() {}

    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Grid pixels per register tile. */
    private static final int PX = 6;

    private static final Workspace.Slot DX_CHANNEL_LAST = Workspace.slot("conv.dgrad-phases.dx");

    /**
     * Dense, dilation 1, strided, every phase with taps (R ≥ sh, S ≥ sw: a 1×1 stride-2 layer would run three phases of
     * zeros), and one channel block's packed weights within a quarter of L2 (a strip re-reads them per pixel tile).
     * Batch 16, input gradient with an addend, ms, column matrix → phases (1 thread; 2 threads): 32→64 3×3/2 at 32²
     * (74 KB of weights per block on AVX-512) 2.91 → 2.36, 1.97 → 1.37; 64→128 at 56² (147 KB) 26.2 → 25.0,
     * 18.7 → 14.1; 128→256 at 28² (295 KB, not taken) 27.5 → 26.9, 14.4 → 13.9; 256→512 at 14² (590 KB) 33.6 → 38.7,
     * 18.0 → 21.0; and 1×1/2 32→64 0.48 → 0.63.
     */
    static boolean applies(ConvGeom g) {
        int cp = (g.c() + VL - 1) / VL * VL;
        long blockBytes = 4L * g.r() * g.s() * g.k() * Math.min(cp, 2 * VL);
        return g.groups() == 1 && g.dh() == 1 && g.dw() == 1 && (g.sh() > 1 || g.sw() > 1) && g.r() >= g.sh()
                && g.s() >= g.sw() && g.p() > 0 && g.q() > 0 && blockBytes <= Gemm.l2CacheBytes() / 4;
    }

    /**
     * dx = add + ∂L/∂x (add nullable, NCHW like dx) for dy [N][K][P][Q] and w [K][C][R][S]; dx overwritten. With at
     * least as many images as threads, each task takes an image through the whole pipeline in its thread's buffers;
     * with fewer (batch 1 on 2 threads), the images' layouts, then their (phase, channel block) tiles, then their
     * output passes are shared out in three rounds over buffers for the whole batch. Every output element is formed
     * by the same tile in the same order either way, so the result does not depend on the thread count. Batch 1,
     * 2 threads, column matrix → phases, ms: 32→64 3×3/2 at 32² 0.10 → 0.13, 64→128 at 56² 1.07 → 0.93 (one thread
     * per image would have been 0.15 and 2.27).
     */
    static void backwardData(ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo, MemorySegment dx, long dxo,
                             MemorySegment add, long addo) {
        Plan plan = PLAN.get();
        plan.set(g, w, wo);
        Job job = JOB.get();
        job.plan = plan; job.dy = dy; job.dyo = dyo; job.dx = dx; job.dxo = dxo; job.add = add; job.addo = addo;
        try {
            if (g.n() >= ComputePool.threads()) {
                job.round = Round.WHOLE;
                ComputePool.parallelFor(g.n(), job);
                return;
            }
            Buffers shared = SHARED.get();
            shared.ensure(g.n() * plan.dypFloats());
            job.shared = shared;
            job.dxl = Workspace.ofCurrentThread().floats(DX_CHANNEL_LAST, g.n() * plan.dxlFloats());
            job.round = Round.LAYOUT;
            ComputePool.parallelFor(g.n(), job);
            job.round = Round.TILES;
            int units = plan.phases() * plan.channelBlocks();
            ComputePool.parallelFor(g.n() * units, job);
            job.round = Round.OUTPUT;
            ComputePool.parallelFor(g.n(), job);
        } finally {
            job.plan = null; job.dy = null; job.dx = null; job.add = null; job.shared = null; job.dxl = null;
        }
    }

    /** The geometry of the phases and the packed weights of one call (calling thread's, reused). */
    static final class Plan {
        ConvGeom g;
        int cp, hd, wd, padTop, padLeft;
        /** Per row phase a: first grid row and rows; per column phase b: first grid column and columns. */
        int[] iLo = new int[0], rows = new int[0], jLo = new int[0], cols = new int[0];
        /** Per phase (a·sw + b): its tap slots [slot0, slot1). */
        int[] slot0 = new int[0], slot1 = new int[0];
        /** Per tap slot: dyp offset in floats relative to the grid pixel (−(t·Wd + u)·K). */
        int[] tapOffset = new int[0];
        /** Packed weights [slot][k][Cp], zero beyond C. */
        float[] packed = new float[0];

        /** Floats of one image's dyp: [hd][wd][K] plus slack for the last tile's overrun (a row and a tile). */
        long dypFloats() { return ((long) hd * wd + wd + PX) * g.k(); }

        /** Floats of one image's channel-last dx: [H][W][Cp]. */
        long dxlFloats() { return (long) g.h() * g.w() * cp; }

        int phases() { return g.sh() * g.sw(); }

        int channelBlocks() { return (cp + 2 * VL - 1) / (2 * VL); }

        void set(ConvGeom g, MemorySegment w, long wo) {
            this.g = g;
            int sh = g.sh(), sw = g.sw(), r = g.r(), s = g.s(), k = g.k(), c = g.c();
            cp = (c + VL - 1) / VL * VL;
            int phases = sh * sw;
            if (iLo.length < sh) { iLo = new int[sh]; rows = new int[sh]; }
            if (jLo.length < sw) { jLo = new int[sw]; cols = new int[sw]; }
            if (slot0.length < phases) { slot0 = new int[phases]; slot1 = new int[phases]; }
            // each phase's grid (row phase a: input rows sh·i + a − pt for i in [iLo, iLo + rows)), and the dy rows and
            // columns its taps read (tap t reads dy row i − t), to size the zero borders; every phase has taps (applies)
            int minRow = 0, maxRow = g.p() - 1, minCol = 0, maxCol = g.q() - 1;
            for (int a = 0; a < sh; a++) {
                iLo[a] = Math.floorDiv(g.pt() - a + sh - 1, sh);
                rows[a] = Math.max(0, Math.floorDiv(g.pt() + g.h() - a + sh - 1, sh) - iLo[a]);
                if (rows[a] > 0) {
                    minRow = Math.min(minRow, iLo[a] - (r - 1 - a) / sh);
                    maxRow = Math.max(maxRow, iLo[a] + rows[a] - 1);
                }
            }
            for (int b = 0; b < sw; b++) {
                jLo[b] = Math.floorDiv(g.pl() - b + sw - 1, sw);
                cols[b] = Math.max(0, Math.floorDiv(g.pl() + g.w() - b + sw - 1, sw) - jLo[b]);
                if (cols[b] > 0) {
                    minCol = Math.min(minCol, jLo[b] - (s - 1 - b) / sw);
                    maxCol = Math.max(maxCol, jLo[b] + cols[b] - 1);
                }
            }
            padTop = -minRow;
            padLeft = -minCol;
            hd = maxRow + 1 + padTop;
            wd = maxCol + 1 + padLeft;
            int taps = r * s;
            if (tapOffset.length < taps) tapOffset = new int[taps];
            long packedFloats = (long) taps * k * cp;
            if (packedFloats > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("input gradient by phases: " + packedFloats + " packed weight floats");
            if (packed.length < packedFloats) packed = new float[(int) packedFloats];
            int slot = 0;
            for (int a = 0; a < sh; a++)
                for (int b = 0; b < sw; b++) {
                    int ph = a * sw + b;
                    slot0[ph] = slot;
                    for (int rr = a; rr < r; rr += sh)
                        for (int ss = b; ss < s; ss += sw) {
                            int t = (rr - a) / sh, u = (ss - b) / sw;
                            tapOffset[slot] = -(t * wd + u) * k;
                            int base = slot * k * cp;
                            for (int kk = 0; kk < k; kk++) {
                                int row = base + kk * cp;
                                long src = wo + ((long) kk * c * r + rr) * s + ss; // W[kk][ch][rr][ss], ch = 0
                                for (int ch = 0; ch < c; ch++)
                                    packed[row + ch] = w.getAtIndex(ValueLayout.JAVA_FLOAT, src + (long) ch * r * s);
                                Arrays.fill(packed, row + c, row + cp, 0f);
                            }
                            slot++;
                        }
                    slot1[ph] = slot;
                }
        }
    }

    private static final ThreadLocal<Plan> PLAN = ThreadLocal.withInitial(Plan::new);

    private enum Round { WHOLE, LAYOUT, TILES, OUTPUT }

    /**
     * WHOLE: task n takes image n through the layout, every phase and the output pass in its thread's buffers; LAYOUT,
     * TILES (task = image × phase × channel block), OUTPUT: the three rounds over the shared buffers.
     */
    private static final class Job implements IntConsumer {
        Plan plan;
        Round round;
        Buffers shared;
        MemorySegment dy, dx, add, dxl;
        long dyo, dxo, addo;

        @Override
        public void accept(int t) {
            Plan pl = plan;
            switch (round) {
                case WHOLE -> {
                    Buffers own = BUFFERS.get();
                    own.ensure(pl.dypFloats());
                    MemorySegment out = Workspace.ofCurrentThread().floats(DX_CHANNEL_LAST, pl.dxlFloats());
                    layout(pl, dy, dyo, t, own, 0);
                    for (int ph = 0; ph < pl.phases(); ph++)
                        for (int cb = 0; cb < pl.channelBlocks(); cb++) phaseBlock(pl, own.dyp, 0, ph, cb, out, 0, own.tile);
                    finish(pl, out, 0, dx, dxo, add, addo, t);
                }
                case LAYOUT -> layout(pl, dy, dyo, t, shared, t * pl.dypFloats());
                case TILES -> {
                    int units = pl.phases() * pl.channelBlocks(), n = t / units, u = t % units;
                    phaseBlock(pl, shared.dyp, (int) (n * pl.dypFloats()), u / pl.channelBlocks(), u % pl.channelBlocks(),
                            dxl, n * pl.dxlFloats(), BUFFERS.get().tile);
                }
                case OUTPUT -> finish(pl, dxl, t * pl.dxlFloats(), dx, dxo, add, addo, t);
            }
        }
    }

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /** A worker's dyp image (Java array, read by the tiles) with its segment view, and its tile scratch. */
    private static final class Buffers {
        float[] dyp = new float[0];
        MemorySegment dypView = MemorySegment.ofArray(dyp);
        final float[] tile = new float[PX * 2 * VL];

        void ensure(long floats) {
            if (floats > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("input gradient by phases: dy laid out needs " + floats + " floats");
            if (dyp.length < floats) {
                dyp = new float[(int) floats];
                dypView = MemorySegment.ofArray(dyp);
            }
        }
    }

    /** Each worker's own buffers (WHOLE, and tile scratch), and the calling thread's buffers for a whole batch. */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new),
            SHARED = ThreadLocal.withInitial(Buffers::new);

    /** Image n of dy channel-last with zero borders into buf.dyp from float base ([hd][wd][K] + slack). */
    private static void layout(Plan pl, MemorySegment dy, long dyo, int n, Buffers buf, long base) {
        ConvGeom g = pl.g;
        int k = g.k(), wd = pl.wd;
        Arrays.fill(buf.dyp, (int) base, (int) (base + pl.dypFloats()), 0f);
        F32PlaneRows.toChannelLast(dy, dyo + (long) n * k * g.p() * g.q(), (long) g.p() * g.q(), g.q(), k, g.p(), g.q(),
                buf.dypView, base + ((long) pl.padTop * wd + pl.padLeft) * k, (long) wd * k, k);
    }

    /**
     * Phase ph's pixels, input channels [cb·2VL, +2VL) (or the last single vector), of the image whose dyp starts at
     * float dypBase, into its channel-last dx at float dxlBase of dxl; tile is 6·2VL floats of scratch.
     */
    private static void phaseBlock(Plan pl, float[] dyp, int dypBase, int ph, int cb, MemorySegment dxl, long dxlBase,
                                   float[] tile) {
        ConvGeom g = pl.g;
        int k = g.k(), cp = pl.cp, wd = pl.wd, w = g.w(), sh = g.sh(), sw = g.sw();
        int a = ph / sw, b = ph % sw, gr = pl.rows[a], gc = pl.cols[b];
        if (gr == 0 || gc == 0) return;
        int h0 = sh * pl.iLo[a] + a - g.pt(), w0 = sw * pl.jLo[b] + b - g.pl();
        int base = dypBase + ((pl.iLo[a] + pl.padTop) * wd + pl.jLo[b] + pl.padLeft) * k;
        int s0 = pl.slot0[ph], s1 = pl.slot1[ph], pixels = gr * wd, c0 = cb * 2 * VL;
        boolean two = cp - c0 >= 2 * VL;
        for (int f = 0; f < pixels; f += PX) {
            if (two) tile6x2(dyp, base + f * k, pl.tapOffset, s0, s1, k, pl.packed, s0 * k * cp + c0, k * cp, cp, tile);
            else tile6x1(dyp, base + f * k, pl.tapOffset, s0, s1, k, pl.packed, s0 * k * cp + c0, k * cp, cp, tile);
            for (int i = 0; i < PX; i++) {
                int fi = f + i, ii = fi / wd, jj = fi - ii * wd;
                if (ii >= gr || jj >= gc) continue;
                long at = dxlBase + (((long) (h0 + sh * ii)) * w + w0 + sw * jj) * cp + c0;
                FloatVector.fromArray(SP, tile, i * 2 * VL).intoMemorySegment(dxl, 4 * at, NO);
                if (two) FloatVector.fromArray(SP, tile, i * 2 * VL + VL).intoMemorySegment(dxl, 4 * (at + VL), NO);
            }
        }
    }

    /** Image n's channel-last dx (float dxlBase of dxl) to NCHW dx, then its addend added plane by plane. */
    private static void finish(Plan pl, MemorySegment dxl, long dxlBase, MemorySegment dx, long dxo, MemorySegment add,
                               long addo, int n) {
        ConvGeom g = pl.g;
        int c = g.c(), h = g.h(), w = g.w();
        long image = dxo + (long) n * c * h * w, hw = (long) h * w;
        F32PlaneRows.fromChannelLast(dxl, dxlBase, (long) w * pl.cp, pl.cp, c, h, w, dx, image, hw, w);
        if (add != null) {
            long addImage = addo + (long) n * c * h * w;
            for (int ch = 0; ch < c; ch++)
                ConvEpilogue.apply(dx, image + ch * hw, (int) hw, 0f, add, addImage + ch * hw, ActivationFn.IDENTITY);
        }
    }

    /**
     * out[i·2VL + v] = Σ over tap slots [s0, s1) and k &lt; K of dyp[b0 + tapOffset[slot] + i·K + k] ·
     * packed[w0 + (slot − s0)·wTap + k·cp + v], for 6 pixels i and 2 vectors v.
     */
    static void tile6x2(float[] dyp, int b0, int[] tapOffset, int s0, int s1, int kc, float[] packed, int w0, int wTap,
                        int cp, float[] out) {
        FloatVector c00 = FloatVector.zero(SP), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int slot = s0, wb = w0; slot < s1; slot++, wb += wTap) {
            int b = b0 + tapOffset[slot];
            for (int kk = 0, wi = wb; kk < kc; kk++, wi += cp) {
                FloatVector w0v = FloatVector.fromArray(SP, packed, wi);
                FloatVector w1v = FloatVector.fromArray(SP, packed, wi + VL);
                int x = b + kk;
                FloatVector d = FloatVector.broadcast(SP, dyp[x]);
                c00 = w0v.fma(d, c00); c01 = w1v.fma(d, c01);
                d = FloatVector.broadcast(SP, dyp[x + kc]);
                c10 = w0v.fma(d, c10); c11 = w1v.fma(d, c11);
                d = FloatVector.broadcast(SP, dyp[x + 2 * kc]);
                c20 = w0v.fma(d, c20); c21 = w1v.fma(d, c21);
                d = FloatVector.broadcast(SP, dyp[x + 3 * kc]);
                c30 = w0v.fma(d, c30); c31 = w1v.fma(d, c31);
                d = FloatVector.broadcast(SP, dyp[x + 4 * kc]);
                c40 = w0v.fma(d, c40); c41 = w1v.fma(d, c41);
                d = FloatVector.broadcast(SP, dyp[x + 5 * kc]);
                c50 = w0v.fma(d, c50); c51 = w1v.fma(d, c51);
            }
        }
        c00.intoArray(out, 0); c01.intoArray(out, VL);
        c10.intoArray(out, 2 * VL); c11.intoArray(out, 3 * VL);
        c20.intoArray(out, 4 * VL); c21.intoArray(out, 5 * VL);
        c30.intoArray(out, 6 * VL); c31.intoArray(out, 7 * VL);
        c40.intoArray(out, 8 * VL); c41.intoArray(out, 9 * VL);
        c50.intoArray(out, 10 * VL); c51.intoArray(out, 11 * VL);
    }

    /** As {@link #tile6x2} with one vector of input channels: out[i·2VL, +VL). */
    static void tile6x1(float[] dyp, int b0, int[] tapOffset, int s0, int s1, int kc, float[] packed, int w0, int wTap,
                        int cp, float[] out) {
        FloatVector c0 = FloatVector.zero(SP), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        for (int slot = s0, wb = w0; slot < s1; slot++, wb += wTap) {
            int b = b0 + tapOffset[slot];
            for (int kk = 0, wi = wb; kk < kc; kk++, wi += cp) {
                FloatVector w0v = FloatVector.fromArray(SP, packed, wi);
                int x = b + kk;
                c0 = w0v.fma(FloatVector.broadcast(SP, dyp[x]), c0);
                c1 = w0v.fma(FloatVector.broadcast(SP, dyp[x + kc]), c1);
                c2 = w0v.fma(FloatVector.broadcast(SP, dyp[x + 2 * kc]), c2);
                c3 = w0v.fma(FloatVector.broadcast(SP, dyp[x + 3 * kc]), c3);
                c4 = w0v.fma(FloatVector.broadcast(SP, dyp[x + 4 * kc]), c4);
                c5 = w0v.fma(FloatVector.broadcast(SP, dyp[x + 5 * kc]), c5);
            }
        }
        c0.intoArray(out, 0); c1.intoArray(out, 2 * VL); c2.intoArray(out, 4 * VL);
        c3.intoArray(out, 6 * VL); c4.intoArray(out, 8 * VL); c5.intoArray(out, 10 * VL);
    }
}
