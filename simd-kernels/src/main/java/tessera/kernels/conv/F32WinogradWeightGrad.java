package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.layout.F32PlaneRows;
import tessera.memory.Workspace;

/**
 * f32-conv-wgrad-winograd-6x2v: the weight gradient of a dense 3×3 stride-1 convolution by Winograd F(m×m, 3×3)
 * (m = 2 or 4, α = m + 2). The forward pass computes each output tile as {@code Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A}; it is
 * linear in {@code U = G g Gᵀ}, so
 * <pre>
 *   dU[ξ][k][c] = Σ_tiles Z[ξ][tile][k] · V[ξ][tile][c],   Z = A·dY·Aᵀ,  V = Bᵀ·d·B   (ξ one of the α² points)
 *   dW[k][c]    = Gᵀ · dU[k][c] · G
 * </pre>
 * — α² independent products of depth = tiles, against 9 taps of depth = pixels for the direct weight gradient:
 * 36 / 16 = 2.25 multiply-adds per output pixel for F(4×4) instead of 9 (F(2×2): 16 / 4 = 4).
 *
 * <p>Pipeline per chunk of images (as many as keep V and Z within {@link #chunkBudgetBytes}): (1) x padded
 * channel-last by {@link F32Winograd#prepareInput} and dy channel-last over whole tiles ({@code [tile rows·m][tile
 * columns·m][Kp]}, zero outside P × Q and beyond K); (2) V (input transform, as the forward pass) and Z
 * ({@link F32Winograd#outputAdjoint}) into {@code V[ξ][tile][Cp]} and {@code Z[ξ][kBlock][tile][NB]}; (3) per
 * (ξ, output-channel block): dU += Zᵀ·V with {@link F32ConvWeightGradNhwc}'s 6-channel × NB register tile
 * ({@code tile6x2Run}: a 1×1 weight gradient whose "pixels" are the tiles; the general {@code tile6x2} only for a last
 * strip whose channels are clamped to C − 1), accumulators in a workspace between chunks.
 * The batch is split into up to {@link #maxPartials} runs of images with partial sums of their own (while they fit
 * {@link #PARTIALS_BYTES}): a task takes one run through the whole pipeline on its thread, and the partial sums are
 * added in order at the end; a single run (one image, or large channel counts) has the threads split each chunk's
 * rows, tiles and points instead. Finally {@code Gᵀ dU G} per (k, c), vectorized over k. The number of runs depends
 * on the batch and shape only and every sum is formed in one fixed order, so results do not depend on the thread
 * count.
 *
 * <p>Numerical error follows Winograd's forward (the transforms' constants reach 8 in A and 1/24 in G): measured in
 * {@code ConvWinogradErrorTest}, bounded in {@code ConvPropertiesTest} by the same floors as the forward pass.
 */
final class F32WinogradWeightGrad {
    private F32WinogradWeightGrad() {}

    private static final VectorSpecies<Float> SP = F32Winograd.SP;
    private static final int VL = F32Winograd.VL;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Input channels per strip: the rows of the register tile. */
    private static final int MR = F32ConvWeightGradNhwc.MR;
    /** Tiles per transform task. */
    private static final int TILES_PER_TASK = 16;

    static final Workspace.Slot ACCUMULATORS = Workspace.slot("conv.wgrad-winograd.acc");
    /** The layout buffers of a pass ({@link Buffers}). */
    private static final Workspace.Slot PADDED_INPUT = Workspace.slot("conv.wgrad-winograd.padded-input"),
            CHANNEL_LAST_DY = Workspace.slot("conv.wgrad-winograd.channel-last-dy");

    /**
     * Bytes of V + Z per chunk of images (at least one image per chunk): half of L2, so that the layout copies, V
     * and Z of a chunk are still in L2 for the next phase (32→32 3×3 at 32², batch 16, 1 thread: 2.9 ms with 4 × L2,
     * 2.5 ms with one image per chunk). Package-private and mutable so that tests can force chunks of one image.
     */
    static volatile long chunkBudgetBytes = Gemm.l2CacheBytes() / 2;

    /**
     * Tiles per chunk at least (when images are small): each strip's accumulators are loaded and stored once per chunk,
     * and with 16 tiles that cost as much as the products (64→64 at 16², batch 16, 2 threads: 1.6 → 1.0 ms with 4
     * images per chunk instead of 1).
     */
    private static final int MIN_TILES = 64;


    /** Dense 3×3, stride 1, dilation 1 (any padding). */
    static boolean applies(ConvGeom g) {
        return g.isWinogradShape() && g.groups() == 1;
    }

    /** dw (overwritten, [K][C][3][3]) for x [N][C][H][W] and dy [N][K][P][Q]. */
    static void backwardWeights(F32Winograd wino, ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                MemorySegment dw, long dwo) {
        if (!applies(g)) {
            throw new IllegalArgumentException("Winograd weight gradient needs a dense 3×3 stride-1 dilation-1 "
                    + "convolution, got kernel " + g.r() + "×" + g.s() + ", stride " + g.sh() + "×" + g.sw()
                    + ", dilation " + g.dh() + "×" + g.dw() + ", groups " + g.groups());
        }
        int a2 = wino.alpha * wino.alpha, cp = F32Winograd.cPad(g), nb = F32ConvWeightGradNhwc.nb(g);
        int kbs = (g.k() + nb - 1) / nb, strips = (g.c() + MR - 1) / MR;
        long accFloats = (long) a2 * kbs * strips * MR * nb;
        int partials = partials(g.n(), accFloats);
        // not zeroed: each partial's first chunk stores its products instead of adding them
        MemorySegment acc = Workspace.ofCurrentThread().floats(ACCUMULATORS, partials * accFloats);
        Job job = JOB.get();
        Pass shared = SHARED_PASS.get();
        job.set(wino, g, x, xo, dy, dyo, acc, accFloats, cp, nb, kbs, strips, partials, shared);
        try {
            if (partials == 1) {
                // the threads split each chunk's images, tiles and points
                job.ensure(shared);
                for (int n0 = 0; n0 < g.n(); n0 += job.chunk) {
                    shared.start(n0, Math.min(job.chunk, g.n() - n0), job.tilesPerImage, 0, n0 == 0);
                    job.phase = Phase.LAYOUT;
                    ComputePool.parallelFor(shared.images * 2, job);
                    job.phase = Phase.TRANSFORM;
                    ComputePool.parallelFor((shared.tiles + TILES_PER_TASK - 1) / TILES_PER_TASK, job);
                    job.phase = Phase.PRODUCT;
                    ComputePool.parallelFor(a2 * kbs, job);
                }
            } else {
                // each task runs the whole pipeline on its own images into its own partial sums, then they are added
                job.phase = Phase.PARTIAL;
                ComputePool.parallelFor(partials, job);
                job.phase = Phase.REDUCE;
                ComputePool.parallelFor(a2 * kbs, job);
            }
            job.phase = Phase.FILTER;
            job.dw = dw;
            job.dwo = dwo;
            ComputePool.parallelFor(kbs * g.c(), job);
        } finally {
            job.clear();
        }
    }

    /**
     * Partial sums (each over a fixed run of images, added in order at the end): as many as {@link #maxPartials} and
     * {@link #PARTIALS_BYTES} allow, at most one per image. A function of the batch, the shape and the L2 size, not
     * of the thread count, so results do not depend on the thread count.
     */
    static int partials(int n, long accFloats) {
        long byBudget = Math.max(1, PARTIALS_BYTES / (4 * accFloats));
        return (int) Math.max(1, Math.min(Math.min(n, maxPartials), byBudget));
    }

    /**
     * Bytes all partial sums may take: the L2 cache. Each partial is written by its run and read again by the
     * reduction; with 64 channels (36 points × 64 × 66 floats, 608 KB each) four partials spilled out of L2, and a
     * small-ResNet training step's backward (batch 16, 1 thread) took 25.8–26.3 ms against 23.9–25.0 ms with one
     * for that layer. The count thus depends on the machine's L2 as the summation order already depends on its
     * vector width; it still does not depend on the thread count.
     */
    private static final long PARTIALS_BYTES = Gemm.l2CacheBytes();

    /**
     * Most partial sums: the batch is split into this many runs of images, one task each, with no barrier per chunk.
     * Batch 16, 32→32 at 32² / 64→64 at 16², ms (median): one sum split by the threads 2.2 / 1.6 (1 thread),
     * 1.6 / 1.1 (2 threads); 2 runs 2.1–2.3 / 1.6–1.9, 1.1–1.2 / 0.9–1.0; 4 runs 2.4 / 2.1, 1.2 / 1.1; 8 runs 2.5 / 2.1,
     * 1.3 / 1.3. Four, not two, so that up to four cores share the work (the count must not depend on the thread count,
     * or results would). Package-private and mutable so that tests can force the single-sum path.
     */
    static volatile int maxPartials = 4;

    private enum Phase { LAYOUT, TRANSFORM, PRODUCT, PARTIAL, REDUCE, FILTER }

    /** One chunk of images in flight: the buffers it uses, its images and tiles, and where its sums go. */
    private static final class Pass {
        Buffers buf = new Buffers();
        int n0, images, tiles;
        long accBase;
        /** The first chunk of its sums: the products are stored, not added (the accumulators are not zeroed). */
        boolean first;

        void start(int n0, int images, int tilesPerImage, long accBase, boolean first) {
            this.n0 = n0; this.images = images; this.tiles = images * tilesPerImage; this.accBase = accBase;
            this.first = first;
        }
    }

    /** The calling thread's pass (single-sum path) and each worker's own (partial-sum path). */
    private static final ThreadLocal<Pass> SHARED_PASS = ThreadLocal.withInitial(Pass::new);
    private static final ThreadLocal<Pass> WORKER_PASS = ThreadLocal.withInitial(Pass::new);

    /** One task of a phase; fields set per call, cleared after it. */
    private static final class Job implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        MemorySegment x, dy, acc, dw;
        long xo, dyo, dwo, accFloats;
        Pass shared;
        int[] channels = new int[0];
        int cp, nb, kbs, strips, tilesPerImage, partials, chunk;
        Phase phase;

        void set(F32Winograd wino, ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment acc,
                 long accFloats, int cp, int nb, int kbs, int strips, int partials, Pass shared) {
            this.wino = wino; this.g = g; this.x = x; this.xo = xo; this.dy = dy; this.dyo = dyo; this.acc = acc;
            this.accFloats = accFloats; this.cp = cp; this.nb = nb; this.kbs = kbs; this.strips = strips;
            this.partials = partials; this.shared = shared;
            this.tilesPerImage = wino.tilesH(g) * wino.tilesW(g);
            if (channels.length < strips * MR) channels = new int[strips * MR];
            for (int i = 0; i < strips * MR; i++) channels[i] = Math.min(i, g.c() - 1);
            // images per chunk: V and Z within the budget or at least MIN_TILES tiles, chunks of even size
            long perImage = 4L * wino.alpha * wino.alpha * tilesPerImage * (cp + kbs * nb);
            long byTiles = (MIN_TILES + tilesPerImage - 1) / tilesPerImage;
            int per = (int) Math.max(1, Math.min(g.n(), Math.max(byTiles, chunkBudgetBytes / perImage)));
            int chunks = (g.n() + per - 1) / per;
            chunk = (g.n() + chunks - 1) / chunks;
        }

        /** Grows pass's buffers to one chunk. */
        void ensure(Pass pass) {
            int a2 = wino.alpha * wino.alpha, kp = kbs * nb;
            long dyImage = (long) wino.tilesH(g) * wino.m * wino.tilesW(g) * wino.m * kp;
            int tiles = chunk * tilesPerImage;
            pass.buf.ensure(chunk * wino.inputFloats(g), chunk * dyImage, (long) a2 * F32Winograd.planeStride(tiles * cp),
                    (long) a2 * F32Winograd.planeStride(kbs * tiles * nb));
        }

        void clear() {
            wino = null; g = null; x = null; dy = null; acc = null; dw = null;
            shared.buf.in = null; shared.buf.dy = null; // no reference to workspace memory between calls
            shared = null;
        }

        @Override
        public void accept(int t) {
            switch (phase) {
                case LAYOUT -> layout(shared, t);
                case TRANSFORM -> transform(shared, t * TILES_PER_TASK, Math.min(shared.tiles, (t + 1) * TILES_PER_TASK));
                case PRODUCT -> product(shared, t / kbs, t % kbs);
                case PARTIAL -> partial(t);
                case REDUCE -> reduce(t);
                case FILTER -> filterAdjoint(t);
            }
        }

        /** Partial sum p: images [p·N/P, (p+1)·N/P) through the whole pipeline on this thread, chunk by chunk. */
        private void partial(int p) {
            Pass pass = WORKER_PASS.get();
            ensure(pass);
            int n = g.n(), i0 = (int) ((long) n * p / partials), i1 = (int) ((long) n * (p + 1) / partials);
            int a2 = wino.alpha * wino.alpha;
            for (int n0 = i0; n0 < i1; n0 += chunk) {
                pass.start(n0, Math.min(chunk, i1 - n0), tilesPerImage, p * accFloats, n0 == i0);
                for (int t = 0; t < pass.images * 2; t++) layout(pass, t);
                transform(pass, 0, pass.tiles);
                for (int u = 0; u < a2 * kbs; u++) product(pass, u / kbs, u % kbs);
            }
            pass.buf.in = null;
            pass.buf.dy = null;
        }

        /** Partial sums 1 … P−1 of (point, kb) = (t / kbs, t mod kbs) added, in order, into partial 0. */
        private void reduce(int t) {
            long len = (long) strips * MR * nb, base = t * len;
            for (int p = 1; p < partials; p++) {
                long src = p * accFloats + base;
                for (long i = 0; i < len; i += VL) {
                    FloatVector a = FloatVector.fromMemorySegment(SP, acc, 4 * (base + i), NO);
                    a.add(FloatVector.fromMemorySegment(SP, acc, 4 * (src + i), NO)).intoMemorySegment(acc, 4 * (base + i), NO);
                }
            }
        }

        /** Task t: image t / 2 of the pass, its padded input (t even) or its dy rows (t odd), channel-last. */
        private void layout(Pass pass, int t) {
            int nl = t / 2;
            Buffers buf = pass.buf;
            if (t % 2 == 0) {
                wino.prepareInput(g, x, xo, pass.n0, nl, 0, 0, wino.paddedH(g), buf.in);
                return;
            }
            int pt = wino.tilesH(g) * wino.m, qt = wino.tilesW(g) * wino.m;
            int k = g.k(), p = g.p(), q = g.q(), kp = kbs * nb;
            long rowFloats = (long) qt * kp, dst = (long) nl * pt * rowFloats;
            if (qt > q)
                for (int row = 0; row < p; row++) ConvEpilogue.zero(buf.dy, dst + row * rowFloats + (long) q * kp, (long) (qt - q) * kp);
            ConvEpilogue.zero(buf.dy, dst + p * rowFloats, (pt - p) * rowFloats);
            F32PlaneRows.toChannelLast(dy, dyo + (long) (pass.n0 + nl) * k * p * q, (long) p * q, q, k, p, q,
                    buf.dy, dst, rowFloats, kp);
        }

        /** V and Z of tiles [t0, t1) of the pass. */
        private void transform(Pass pass, int t0, int t1) {
            Buffers buf = pass.buf;
            int tiles = pass.tiles;
            int m = wino.m, hp = wino.paddedH(g), wp = wino.paddedW(g), tw = wino.tilesW(g);
            int qt = tw * m, pt = wino.tilesH(g) * m, kp = kbs * nb;
            int vStride = F32Winograd.planeStride(tiles * cp), zStride = F32Winograd.planeStride(kbs * tiles * nb);
            float[] tmp = TMP.get();
            if (tmp.length < wino.alpha * wino.alpha * VL) {
                tmp = new float[wino.alpha * wino.alpha * VL];
                TMP.set(tmp);
            }
            for (int t = t0; t < t1; t++) {
                int nl = t / tilesPerImage, rem = t % tilesPerImage, ty = rem / tw, tx = rem % tw;
                long in = ((long) (nl * hp + ty * m) * wp + tx * m) * cp;
                for (int cv = 0; cv < cp; cv += VL)
                    wino.inputTransform(buf.in, in + cv, wp * cp, cp, tmp, 0, buf.v, t * cp + cv, vStride);
                long d = ((long) (nl * pt + ty * m) * qt + tx * m) * kp;
                for (int kv = 0; kv < kp; kv += VL) {
                    int kb = kv / nb;
                    wino.outputAdjoint(buf.dy, d + kv, qt * kp, kp, tmp, 0, buf.z, (kb * tiles + t) * nb + kv - kb * nb,
                            zStride);
                }
            }
        }

        /** dU[point][kb] += Z[point][kb]ᵀ · V[point] over the chunk's tiles, one strip of 6 input channels at a time. */
        private void product(Pass pass, int point, int kb) {
            Buffers buf = pass.buf;
            int tiles = pass.tiles;
            int vBase = point * F32Winograd.planeStride(tiles * cp);
            int zBase = point * F32Winograd.planeStride(kbs * tiles * nb) + kb * tiles * nb;
            for (int st = 0; st < strips; st++) {
                int c0 = st * MR;
                long a = pass.accBase + ((long) (point * kbs + kb) * strips + st) * MR * nb;
                // six channels in a row: the tile with hoisted bounds checks (paired training steps, small ResNet b16:
                // 44.41 → 43.49 ms on 1 thread, 20.39 → 20.34 ms on 2)
                if (c0 + MR <= g.c()) {
                    if (nb == 2 * VL) F32ConvWeightGradNhwc.tile6x2Run(buf.v, vBase + c0, cp, tiles, buf.z, zBase, acc, a, !pass.first);
                    else F32ConvWeightGradNhwc.tile6x1Run(buf.v, vBase + c0, cp, tiles, buf.z, zBase, acc, a, !pass.first);
                } else if (nb == 2 * VL) {
                    F32ConvWeightGradNhwc.tile6x2(buf.v, vBase, 0, cp, 1, tiles, channels[c0], channels[c0 + 1],
                            channels[c0 + 2], channels[c0 + 3], channels[c0 + 4], channels[c0 + 5], buf.z, zBase, acc, a, !pass.first);
                } else {
                    F32ConvWeightGradNhwc.tile6x1(buf.v, vBase, 0, cp, 1, tiles, channels[c0], channels[c0 + 1],
                            channels[c0 + 2], channels[c0 + 3], channels[c0 + 4], channels[c0 + 5], buf.z, zBase, acc, a, !pass.first);
                }
            }
        }

        /**
         * dw[k][c] = Gᵀ · dU[k][c] · G for input channel c = t mod C and the output channels of block t / C, vectorized
         * over those output channels (float32: its rounding is far below that of the sums that formed dU).
         */
        private void filterAdjoint(int t) {
            int c = g.c(), kb = t / c, ch = t - kb * c, st = ch / MR, i = ch - st * MR, a = wino.alpha;
            float[] gm = wino.filterMatrixFloat();
            float[] rows = FILTER_TMP.get();
            int tOff = 9 * nb; // rows[0, 9·nb): dw[r·3 + s][lane]; then α·3 vectors of Σ_ξ2 dU[ξ1][ξ2]·G[ξ2][s]
            for (int v = 0; v < nb; v += VL) {
                for (int x1 = 0; x1 < a; x1++) {
                    FloatVector s0 = FloatVector.zero(SP), s1 = s0, s2 = s0;
                    for (int x2 = 0; x2 < a; x2++) {
                        long idx = ((((long) (x1 * a + x2) * kbs + kb) * strips + st) * MR + i) * nb + v;
                        FloatVector d = FloatVector.fromMemorySegment(SP, acc, 4 * idx, NO);
                        s0 = d.fma(FloatVector.broadcast(SP, gm[x2 * 3]), s0);
                        s1 = d.fma(FloatVector.broadcast(SP, gm[x2 * 3 + 1]), s1);
                        s2 = d.fma(FloatVector.broadcast(SP, gm[x2 * 3 + 2]), s2);
                    }
                    s0.intoArray(rows, tOff + (x1 * 3) * VL);
                    s1.intoArray(rows, tOff + (x1 * 3 + 1) * VL);
                    s2.intoArray(rows, tOff + (x1 * 3 + 2) * VL);
                }
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++) {
                        FloatVector o = FloatVector.zero(SP);
                        for (int x1 = 0; x1 < a; x1++)
                            o = FloatVector.fromArray(SP, rows, tOff + (x1 * 3 + s) * VL).fma(FloatVector.broadcast(SP, gm[x1 * 3 + r]), o);
                        o.intoArray(rows, (r * 3 + s) * nb + v);
                    }
            }
            for (int j = 0, k0 = kb * nb, kn = Math.min(nb, g.k() - k0); j < kn; j++) {
                long out = dwo + ((long) (k0 + j) * c + ch) * 9;
                for (int rs = 0; rs < 9; rs++) dw.setAtIndex(F, out + rs, rows[rs * nb + j]);
            }
        }
    }

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);
    /** Transform scratch (α² vectors) of each worker thread. */
    private static final ThreadLocal<float[]> TMP = ThreadLocal.withInitial(() -> new float[0]);
    /** The filter adjoint's scratch per worker thread: 9 rows of 2 vectors (dw) and 6·3 vectors (G applied once). */
    private static final ThreadLocal<float[]> FILTER_TMP = ThreadLocal.withInitial(() -> new float[9 * 2 * VL + 18 * VL]);

    /**
     * A thread's layout buffers (padded x, dy over whole tiles: off-heap workspace memory of the thread that runs the
     * pass, which the layout copies fill without staging) and transformed operands (V, Z: Java arrays, which the
     * product reads fastest, see {@link F32ConvWeightGradNhwc}). They only grow; the layout buffers are fetched from
     * the workspace on every call.
     */
    private static final class Buffers {
        float[] v = new float[0], z = new float[0];
        MemorySegment in, dy;
        void ensure(long inFloats, long dyFloats, long vFloats, long zFloats) {
            Workspace ws = Workspace.ofCurrentThread();
            in = ws.floats(PADDED_INPUT, inFloats);
            dy = ws.floats(CHANNEL_LAST_DY, dyFloats);
            if (v.length < vFloats) v = new float[arrayLength("transformed input", vFloats)];
            if (z.length < zFloats) z = new float[arrayLength("transformed dy", zFloats)];
        }

        private static int arrayLength(String what, long floats) {
            if (floats > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("Winograd weight gradient: the " + what + " of one image needs "
                        + floats + " floats, more than a Java array holds");
            }
            return (int) floats;
        }
    }

}
