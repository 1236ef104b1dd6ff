package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.IntConsumer;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.gemm.GemmEpilogue;
import tessera.kernels.gemm.PackedA;
import tessera.memory.Workspace;

/**
 * Convolution as a Toeplitz matrix product on {@link Gemm} (f32-conv-im2col-gemm). Per image and group:
 * {@code Y_g [K/g × P·Q] = W_g [K/g × (C/g)·R·S] · col [(C/g)·R·S × P·Q]}, where col is built for a chunk of
 * output columns at a time (≈ 2 MB, so it stays in cache). A planned convolution (pre-packed weights) writes its
 * im2col operand straight into the GEMM's packed panels instead ({@link Im2colPanelSource}), for the whole batch in
 * one product. 1×1 stride-1 unpadded convolutions use x itself as the right operand (no im2col). Bias, activation and residual are fused via {@link GemmEpilogue}.
 * Backward data: {@code dcol = W_gᵀ · dy_g} then col2im (scatter-add); backward weights:
 * {@code dW_g += dy_g · colᵀ} over images. Scratch: workspace slot 0 (col).
 */
final class F32ConvIm2col {
    /** The im2col matrix (C·R·S rows × output pixels of one chunk). */
    static final Workspace.Slot COLUMNS = Workspace.slot("conv.im2col.columns");
    /** ∂L/∂y transposed for the batched input-gradient GEMM. */
    static final Workspace.Slot DY_TRANSPOSED = Workspace.slot("conv.im2col.dy-transposed");

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long COL_BYTES = 2L << 20;

    private F32ConvIm2col() {}

    static int colChunk(ConvGeom g) {
        int rows = g.cg() * g.r() * g.s(), pq = g.p() * g.q();
        int chunk = (int) Math.max(96, COL_BYTES / 4 / rows) / 96 * 96;
        return Math.min(chunk, pq);
    }

    /** Fills col[row][0, j1−j0) for rows [row0, row1) with input pixels of output columns [j0, j1). */
    static void im2colRows(ConvGeom g, MemorySegment x, long xImage, MemorySegment col, int j0, int j1, int row0, int row1) {
        im2colRows(g, x, xImage, col, 0, j0, j1, row0, row1);
    }

    /** As above, with col's first row at element {@code colBase}. */
    static void im2colRows(ConvGeom g, MemorySegment x, long xImage, MemorySegment col, long colBase, int j0, int j1,
                           int row0, int row1) {
        im2colRows(g, x, xImage, col, colBase, j1 - j0, j0, j1, row0, row1);
    }

    /** As above, with col's rows {@code ld} floats apart (≥ j1 − j0: images side by side in one column matrix). */
    static void im2colRows(ConvGeom g, MemorySegment x, long xImage, MemorySegment col, long colBase, int ld, int j0, int j1,
                           int row0, int row1) {
        int rs = g.r() * g.s(), len = ld;
        // strided: bulk copies of runs from the channel's column phases (a heap copy of the plane split by column
        // modulo the stride, so a strided run is contiguous); stride 1: bulk copies of runs straight from x
        boolean fromPlane = g.sw() != 1;
        int sw = g.sw(), lead = Math.max(0, (g.pl() + sw - 1) / sw * sw);
        int wq = ((g.q() - 1) * sw - g.pl() + (g.s() - 1) * g.dw() + lead) / sw + 1; // through the last input column read
        PlaneScratch strided = fromPlane ? PLANE.get().fit(g.h() * g.w(), sw * g.h() * wq) : null;
        int cachedChannel = -1;
        for (int row = row0; row < row1; row++) {
            int c = row / rs, r = (row % rs) / g.s(), s = row % g.s();
            if (strided != null && c != cachedChannel) {
                // one bulk copy of the channel's plane per run of its R·S rows; the picks then read an array
                MemorySegment.copy(x, F, (xImage + (long) c * g.h() * g.w()) * 4, strided.plane, 0, g.h() * g.w());
                strided.splitPhases(g.h(), g.w(), sw, lead, wq);
                cachedChannel = c;
            }
            long plane = xImage + (long) c * g.h() * g.w();
            long dst = colBase + (long) row * len;
            int j = j0;
            while (j < j1) {
                int p = j / g.q(), q = j - p * g.q();
                int run = Math.min(g.q() - q, j1 - j);
                int ih = p * g.sh() - g.pt() + r * g.dh();
                long d = dst + (j - j0);
                if (ih < 0 || ih >= g.h()) {
                    ConvEpilogue.zero(col, d, run);
                } else {
                    long srow = plane + (long) ih * g.w();
                    int iw0 = q * g.sw() - g.pl() + s * g.dw();
                    if (!fromPlane) {
                        int a = Math.max(0, -iw0), b = Math.min(run, g.w() - iw0);
                        if (b <= a) {
                            ConvEpilogue.zero(col, d, run);
                        } else {
                            if (a > 0) ConvEpilogue.zero(col, d, a);
                            tessera.kernels.layout.F32Copy.toSegment(x, (srow + iw0 + a) * 4, col, (d + a) * 4, b - a);
                            if (b < run) ConvEpilogue.zero(col, d + b, (run - b));
                        }
                    } else {
                        int at = iw0 + lead, phase = at % sw;
                        MemorySegment.copy(strided.phaseSegment, ((long) (phase * g.h() + ih) * wq + at / sw) * 4, col, d * 4, run * 4L);
                    }
                }
                j += run;
            }
        }
    }

    /** Per-thread heap buffers of the strided im2col path: one input plane and its column phases; grow-only. */
    private static final class PlaneScratch {
        float[] plane = new float[0], phases = new float[0];
        /** phases as a segment, made once per growth (a copy from the bare array wraps it anew on every call). */
        MemorySegment phaseSegment = MemorySegment.ofArray(phases);

        PlaneScratch fit(int planeFloats, int phaseFloats) {
            if (plane.length < planeFloats) plane = new float[planeFloats];
            if (phases.length < phaseFloats) {
                phases = new float[phaseFloats];
                phaseSegment = MemorySegment.ofArray(phases);
            }
            return this;
        }

        /**
         * {@code phases[(ph·h + row)·wq + i]} = plane column {@code i·sw + ph − lead} of the row (0 outside the plane):
         * input column iw of a run starting at iw0 ≥ −lead sits in phase (iw0 + lead) mod sw at (iw0 + lead) / sw.
         */
        void splitPhases(int h, int w, int sw, int lead, int wq) {
            for (int ph = 0; ph < sw; ph++)
                for (int row = 0; row < h; row++) {
                    int d = (ph * h + row) * wq, src = row * w;
                    for (int i = 0, iw = ph - lead; i < wq; i++, iw += sw) phases[d + i] = iw >= 0 && iw < w ? plane[src + iw] : 0f;
                }
        }
    }

    private static final ThreadLocal<PlaneScratch> PLANE = ThreadLocal.withInitial(PlaneScratch::new);

    /** Reusable per-thread im2col / col2im job. */
    private static final class ColJob implements IntConsumer {
        ConvGeom g;
        MemorySegment x, col, add;
        long xImage, colBase, addImage;
        int ld;
        int j0, j1, rowsPerTask, rows;
        boolean scatter;

        @Override
        public void accept(int t) {
            int r0 = t * rowsPerTask, r1 = Math.min(rows, r0 + rowsPerTask);
            if (!scatter) {
                im2colRows(g, x, xImage, col, colBase, ld, j0, j1, r0, r1);
                return;
            }
            col2imAdding(g, col, colBase, ld, x, xImage, add, addImage, r0, r1);
        }
    }

    /**
     * {@link #col2imChannels} of planes [c0, c1), then, with a non-null add, the addend's planes (from addGroup) added
     * to those dx planes while they are in cache.
     */
    private static void col2imAdding(ConvGeom g, MemorySegment col, long colBase, int ld, MemorySegment dx, long dxGroup,
                                     MemorySegment add, long addGroup, int c0, int c1) {
        col2imChannels(g, col, colBase, ld, dx, dxGroup, c0, c1);
        if (add == null) return;
        long hw = (long) g.h() * g.w();
        addBlock(dx, dxGroup + c0 * hw, 0, add, addGroup + c0 * hw, 0, 1, Math.toIntExact((c1 - c0) * hw));
    }

    private static final ThreadLocal<ColJob> COL = ThreadLocal.withInitial(ColJob::new);

    /** im2col of output columns [j0, j1) into col (rows j1 − j0 floats apart, from element 0), rows split over the pool. */
    private static void im2col(ConvGeom g, MemorySegment x, long xImage, MemorySegment col, int j0, int j1) {
        int rows = g.cg() * g.r() * g.s();
        ColJob job = COL.get();
        job.g = g; job.x = x; job.col = col; job.xImage = xImage; job.colBase = 0; job.ld = j1 - j0; job.j0 = j0; job.j1 = j1; job.rows = rows;
        job.scatter = false;
        int tasks = Math.min(rows, 4 * ComputePool.threads());
        job.rowsPerTask = (rows + tasks - 1) / tasks;
        ComputePool.parallelFor((rows + job.rowsPerTask - 1) / job.rowsPerTask, job);
        job.x = null; job.col = null;
    }

    /**
     * y = act(conv + bias + residual). {@code packed} = per-group pre-packed weights (from a plan) or null to use w.
     */
    static void forward(ConvGeom g, MemorySegment x, long xo, MemorySegment w, long wo, PackedA[] packed,
                        MemorySegment bias, long bo, MemorySegment res, long ro, ActivationFn act,
                        MemorySegment y, long yo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q(), crs = cg * g.r() * g.s();
        boolean plain = g.isPointwise();
        if (packed == null && (!plain || g.n() > 1)) packed = packPerCall(g, w, wo);
        if (packed != null && !plain) {
            forwardImplicit(g, x, xo, packed, bias, bo, res, ro, act, y, yo);
            return;
        }
        if (packed != null && plain && g.n() > 1) {
            forwardBatched(g, x, xo, packed, bias, bo, res, ro, act, y, yo);
            return;
        }
        int chunk = plain ? pq : colChunk(g);
        MemorySegment col = plain ? null : Workspace.ofCurrentThread().floats(COLUMNS, (long) crs * chunk);
        long inImage = (long) g.c() * g.h() * g.w(), outImage = (long) g.k() * pq;
        for (int n = 0; n < g.n(); n++) {
            for (int gi = 0; gi < g.groups(); gi++) {
                long xg = xo + n * inImage + (long) gi * cg * g.h() * g.w();
                long yg = yo + n * outImage + (long) gi * kg * pq;
                for (int j0 = 0; j0 < pq; j0 += chunk) {
                    int len = Math.min(chunk, pq - j0);
                    MemorySegment b = x;
                    long bOff = xg + j0;
                    int ldb = pq;
                    if (!plain) {
                        im2col(g, x, xg, col, j0, j0 + len);
                        b = col; bOff = 0; ldb = len;
                    }
                    GemmEpilogue ep = (bias == null && res == null && act.isIdentity()) ? null
                            : GemmEpilogueCache.of(bias, bo + (long) gi * kg, act,
                                    res, res == null ? 0 : ro + n * outImage + (long) gi * kg * pq + j0, pq);
                    if (packed != null)
                        Gemm.sgemm(packed[gi], false, len, 1f, b, bOff, ldb, 0f, y, yg + j0, pq, ep);
                    else
                        Gemm.sgemm(false, false, kg, len, crs, 1f, w, wo + (long) gi * kg * crs, crs, b, bOff, ldb,
                                0f, y, yg + j0, pq, ep);
                }
            }
        }
    }

    /**
     * Weights packed for one unplanned call (autograd's forward: the weights change every training step), into
     * per-thread arrays that are reused, so that the call takes the whole-batch paths of a plan instead of packing
     * the weights again for every image and column chunk.
     */
    private static PackedA[] packPerCall(ConvGeom g, MemorySegment w, long wo) {
        int kg = g.kg(), crs = g.cg() * g.r() * g.s();
        // one array per weight geometry (groups × kg × crs), so that each layer of a step repacks into objects of its
        // own shape and allocates nothing; one entry per group, exactly: callers take the group count from its length
        java.util.ArrayList<PackedA[]> cache = PER_CALL.get();
        PackedA[] packed = null;
        for (int i = 0; i < cache.size() && packed == null; i++) {
            PackedA[] p = cache.get(i);
            if (p.length == g.groups() && p[0] != null && p[0].m() == kg && p[0].k() == crs) packed = p;
        }
        if (packed == null) {
            packed = new PackedA[g.groups()];
            if (cache.size() == MAX_PER_CALL_SHAPES) cache.remove(0);
            cache.add(packed);
        }
        for (int gi = 0; gi < packed.length; gi++)
            packed[gi] = Gemm.packA(false, kg, crs, w, wo + (long) gi * kg * crs, crs, packed[gi]);
        return packed;
    }

    private static final ThreadLocal<java.util.ArrayList<PackedA[]>> PER_CALL = ThreadLocal.withInitial(java.util.ArrayList::new);
    /** Weight geometries whose packing arrays a thread keeps (the distinct im2col layers of a network, usually). */
    private static final int MAX_PER_CALL_SHAPES = 16;

    /**
     * The forward pass of a planned (pre-packed) non-pointwise convolution: one product per group over the whole
     * batch, its im2col operand written straight into the GEMM's packed panels ({@link Im2colPanelSource}), so no
     * column matrix is built and none is packed again.
     */
    private static void forwardImplicit(ConvGeom g, MemorySegment x, long xo, PackedA[] packed, MemorySegment bias, long bo,
                                        MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q();
        long hw = (long) g.h() * g.w(), inImage = g.c() * hw, outImage = (long) g.k() * pq;
        for (int gi = 0; gi < g.groups(); gi++) {
            Im2colPanelSource src = Im2colPanelSource.of(g, x, xo + (long) gi * cg * hw, inImage);
            try {
                GemmEpilogue ep = (bias == null && res == null && act.isIdentity()) ? null
                        : GemmEpilogueCache.of(bias, bo + (long) gi * kg, act, res, res == null ? 0 : ro + (long) gi * kg * pq, pq);
                Gemm.sgemmPackedSource(packed[gi], g.n(), pq, src, y, yo + (long) gi * kg * pq, pq, outImage, ep, outImage);
            } finally {
                src.clear();
            }
        }
    }

    /**
     * The planned pointwise (1×1 stride-1 unpadded) forward pass with the batch folded into the GEMM's N
     * ({@link Gemm#sgemmColumnBatched}): x itself is the right operand and one product per group covers every image.
     * Small maps (7×7, 14×14) then give the GEMM hundreds of columns instead of 49 or 196, and both threads work on
     * one product.
     */
    private static void forwardBatched(ConvGeom g, MemorySegment x, long xo, PackedA[] packed, MemorySegment bias, long bo,
                                       MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q();
        long hw = (long) g.h() * g.w(), inImage = g.c() * hw, outImage = (long) g.k() * pq;
        for (int gi = 0; gi < g.groups(); gi++) {
            long xg = xo + (long) gi * cg * hw;
            long yg = yo + (long) gi * kg * pq;
            GemmEpilogue ep = (bias == null && res == null && act.isIdentity()) ? null
                    : GemmEpilogueCache.of(bias, bo + (long) gi * kg, act, res, res == null ? 0 : ro + (long) gi * kg * pq, pq);
            Gemm.sgemmColumnBatched(packed[gi], g.n(), pq, 1f, x, xg, pq, inImage, 0f, y, yg, pq, outImage, ep, outImage);
        }
    }

    /**
     * dx = W_gᵀ·dy_g followed by col2im (dx overwritten), and with a non-null {@code add} (NCHW like dx, from float
     * addo) dx = add + W_gᵀ·dy_g, the addend's planes added by each col2im task to the dx planes it has just written;
     * returns false, leaving the addend to the caller, on the path without col2im (1×1 stride 1).
     */
    static boolean backwardData(ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo, MemorySegment dx, long dxo,
                                MemorySegment add, long addo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q(), crs = cg * g.r() * g.s();
        long inImage = (long) g.c() * g.h() * g.w(), outImage = (long) g.k() * pq;
        if (g.isPointwise()) {
            for (int n = 0; n < g.n(); n++)
                for (int gi = 0; gi < g.groups(); gi++)
                    Gemm.sgemm(true, false, cg, pq, kg, 1f, w, wo + (long) gi * kg * crs, crs,
                            dy, dyo + n * outImage + (long) gi * kg * pq, pq, 0f,
                            dx, dxo + n * inImage + (long) gi * cg * pq, pq);
            return add == null;
        }
        if (g.groups() == 1 && g.n() > 1 && (long) crs * g.n() * pq <= BATCHED_COL_LIMIT) {
            backwardDataBatched(g, dy, dyo, w, wo, dx, dxo, add, addo);
            return true;
        }
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) crs * pq);
        ColJob job = COL.get();
        for (int n = 0; n < g.n(); n++)
            for (int gi = 0; gi < g.groups(); gi++) {
                Gemm.sgemm(true, false, crs, pq, kg, 1f, w, wo + (long) gi * kg * crs, crs,
                        dy, dyo + n * outImage + (long) gi * kg * pq, pq, 0f, col, 0, pq);
                long group = n * inImage + (long) gi * cg * g.h() * g.w();
                job.g = g; job.col = col; job.colBase = 0; job.ld = pq; job.x = dx; job.xImage = dxo + group;
                job.add = add; job.addImage = addo + group;
                job.scatter = true; job.rows = cg;
                int tasks = Math.min(cg, 4 * ComputePool.threads());
                job.rowsPerTask = (cg + tasks - 1) / tasks;
                ComputePool.parallelFor((cg + job.rowsPerTask - 1) / job.rowsPerTask, job);
                job.x = null; job.col = null; job.add = null;
            }
        return true;
    }

    /**
     * dst rows += src rows: {@code rows} runs of {@code len} floats, dst runs dStride apart from d, src runs sStride
     * apart from o (a whole tap of a col2im in one call: with 16-column maps, one call per row and its masked tail cost
     * more than the adds — 32→64 3×3/2 at 32², batch 16: col2im 1.25 ms).
     */
    private static void addBlock(MemorySegment dst, long d, long dStride, MemorySegment src, long o, long sStride, int rows,
                                 int len) {
        int lanes = VF.length(), full = len - len % lanes;
        // the tail mask is made where it is used: a mask held across the loop in a nullable local is boxed on the heap
        boolean tail = full < len;
        java.nio.ByteOrder no = java.nio.ByteOrder.nativeOrder();
        for (int p = 0; p < rows; p++, d += dStride, o += sStride) {
            for (int i = 0; i < full; i += lanes) {
                jdk.incubator.vector.FloatVector a = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, dst, (d + i) * 4, no);
                jdk.incubator.vector.FloatVector b = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, src, (o + i) * 4, no);
                a.add(b).intoMemorySegment(dst, (d + i) * 4, no);
            }
            if (!tail) continue;
            if ((d + full + lanes) * 4 > dst.byteSize() || (o + full + lanes) * 4 > src.byteSize()) {
                // a whole vector would reach past a segment's end: scalar
                for (int i = full; i < len; i++) dst.setAtIndex(F, d + i, dst.getAtIndex(F, d + i) + src.getAtIndex(F, o + i));
            } else {
                jdk.incubator.vector.VectorMask<Float> m = VF.indexInRange(full, len);
                jdk.incubator.vector.FloatVector a = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, dst, (d + full) * 4, no, m);
                jdk.incubator.vector.FloatVector b = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, src, (o + full) * 4, no, m);
                a.add(b).intoMemorySegment(dst, (d + full) * 4, no, m);
            }
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> VF = tessera.kernels.Species.FLOAT;

    /** Column matrices up to this many floats (16 MB) are built for the whole batch at once. */
    private static final long BATCHED_COL_LIMIT = 4L << 20;

    /**
     * Input gradient for small layers (groups = 1): one GEMM over the whole batch instead of one per image —
     * dyᵀ [K, N·P·Q] (a copy of dy with images side by side), col [C·R·S, N·P·Q] = Wᵀ·dyᵀ, then col2im of all N·C planes
     * under one barrier (32→64 3×3/2 at 32², batch 16, 2 threads, paired runs: 1.51 → 1.45 ms; 1×1/2 0.41 → 0.35 ms).
     * Many tiny per-image GEMMs (LeNet's 6→16 layer: 150×100×16 each) cost more in packing than in arithmetic.
     */
    private static void backwardDataBatched(ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo, MemorySegment dx, long dxo,
                                            MemorySegment add, long addo) {
        int k = g.k(), pq = g.p() * g.q(), crs = g.cg() * g.r() * g.s(), npq = g.n() * pq;
        MemorySegment dyT = Workspace.ofCurrentThread().floats(DY_TRANSPOSED, (long) k * npq);
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) crs * npq);
        imagesSideBySide(g, dy, dyo, dyT);
        Gemm.sgemm(true, false, crs, npq, k, 1f, w, wo, crs, dyT, 0, npq, 0f, col, 0, npq);
        // col2im of every (image, channel) plane under one barrier (one per image left a thread idle at each)
        BatchedCol2imJob job = BATCHED_COL2IM.get();
        job.g = g; job.col = col; job.dx = dx; job.dxo = dxo; job.add = add; job.addo = addo;
        int planes = g.n() * g.c(), tasks = Math.min(planes, 4 * ComputePool.threads());
        job.planes = planes;
        job.perTask = (planes + tasks - 1) / tasks;
        ComputePool.parallelFor((planes + job.perTask - 1) / job.perTask, job);
        job.dx = null; job.col = null; job.add = null;
    }

    /** The col2im of {@link #backwardDataBatched}: task t takes a run of the N·C planes of dx (col holds the whole batch). */
    private static final class BatchedCol2imJob implements IntConsumer {
        ConvGeom g;
        MemorySegment col, dx, add;
        long dxo, addo;
        int planes, perTask;

        @Override
        public void accept(int t) {
            int c = g.c(), pq = g.p() * g.q(), npq = g.n() * pq;
            long inImage = (long) c * g.h() * g.w();
            for (int i = t * perTask, end = Math.min(planes, i + perTask); i < end; ) {
                int n = i / c, c0 = i % c, c1 = Math.min(c, c0 + end - i); // planes of one image at a time
                col2imAdding(g, col, (long) n * pq, npq, dx, dxo + n * inImage, add, addo + n * inImage, c0, c1);
                i += c1 - c0;
            }
        }
    }

    private static final ThreadLocal<BatchedCol2imJob> BATCHED_COL2IM = ThreadLocal.withInitial(BatchedCol2imJob::new);

    /**
     * dyT [K, N·P·Q] = dy [N, K, P, Q] with its images side by side (the GEMM operand of the batched products): one
     * task per image on the pool.
     */
    private static void imagesSideBySide(ConvGeom g, MemorySegment dy, long dyo, MemorySegment dyT) {
        SideBySideJob job = SIDE_BY_SIDE.get();
        job.g = g; job.dy = dy; job.dyo = dyo; job.dyT = dyT;
        ComputePool.parallelFor(g.n(), job);
        job.dy = null; job.dyT = null;
    }

    /** Task n of {@link #imagesSideBySide}: image n's dy planes into their column range. */
    private static final class SideBySideJob implements IntConsumer {
        ConvGeom g;
        MemorySegment dy, dyT;
        long dyo;

        @Override
        public void accept(int n) {
            int k = g.k(), pq = g.p() * g.q();
            long npq = (long) g.n() * pq;
            for (int kk = 0; kk < k; kk++)
                MemorySegment.copy(dy, (dyo + ((long) n * k + kk) * pq) * 4, dyT, (kk * npq + (long) n * pq) * 4, (long) pq * 4);
        }
    }

    private static final ThreadLocal<SideBySideJob> SIDE_BY_SIDE = ThreadLocal.withInitial(SideBySideJob::new);

    /**
     * dx planes [c0, c1) of one group = Σ over taps of the matching col rows (overwritten); row i of the column
     * matrix starts at {@code colBase + i·ld}. Column stride 1: each col row run is added to its dx row with vectors.
     * Column stride sw > 1: a col row lands on every sw-th dx column, so the plane is first summed in a phase-split
     * buffer ({@link #PHASES}: row ih holds sw runs, run a = dx columns a, a + sw, …), where every col row run is
     * contiguous again, and then interleaved into dx once (the strided scalar scatter was 55% of a 3×3 stride-2
     * layer's input gradient, 32→64 at 32², batch 16: 3.6–4.0 → 2.8 ms). A kernel one column wide adds each col row
     * straight to its strided dx columns instead (1×1 stride 2: 0.46 ms that way, 0.91 ms through the phase buffer,
     * whose interleave pass covers the whole plane).
     */
    static void col2imChannels(ConvGeom g, MemorySegment col, long colBase, int ld, MemorySegment dx, long dxGroup, int c0, int c1) {
        if (g.s() == 1 && g.sw() > 1) {
            col2imNarrowStrided(g, col, colBase, ld, dx, dxGroup, c0, c1);
            return;
        }
        int hw = g.h() * g.w(), w = g.w(), sw = g.sw();
        int runW = (w + sw - 1) / sw;                       // floats per phase run
        MemorySegment phases = sw == 1 ? null : Workspace.ofCurrentThread().floats(PHASES, (long) g.h() * sw * runW);
        for (int c = c0; c < c1; c++) {
            long plane = dxGroup + (long) c * hw;
            MemorySegment acc = sw == 1 ? dx : phases;
            long base = sw == 1 ? plane : 0;
            long rowFloats = sw == 1 ? w : (long) sw * runW;
            ConvEpilogue.zero(acc, base, g.h() * rowFloats);
            for (int r = 0; r < g.r(); r++)
                for (int s = 0; s < g.s(); s++) {
                    long row = colBase + ((long) (c * g.r() + r) * g.s() + s) * ld;
                    int shift = s * g.dw() - g.pl();
                    int qlo = firstValidColumn(shift, sw), qhi = endValidColumn(shift, sw, w, g.q());
                    if (qhi <= qlo) continue;
                    int phase = Math.floorMod(shift, sw), j0 = Math.floorDiv(shift, sw); // column q·sw + shift = (q + j0)·sw + phase
                    // output rows p whose input row ih = p·sh − pt + r·dh lies in [0, h)
                    int ih0 = r * g.dh() - g.pt(), sh = g.sh();
                    int plo = ih0 >= 0 ? 0 : (-ih0 + sh - 1) / sh, phi = Math.min(g.p(), ih0 >= g.h() ? 0 : (g.h() - 1 - ih0) / sh + 1);
                    if (phi <= plo) continue;
                    int ih = plo * sh + ih0;
                    long dst = sw == 1 ? base + (long) ih * w + shift + qlo
                            : (long) ih * rowFloats + (long) phase * runW + qlo + j0;
                    addBlock(acc, dst, sh * rowFloats, col, row + (long) plo * g.q() + qlo, g.q(), phi - plo, qhi - qlo);
                }
            if (sw > 1) interleave(phases, g.h(), sw, runW, w, dx, plane);
        }
    }

    /** {@link #col2imChannels} for a kernel one column wide with column stride > 1: strided adds, no buffer. */
    private static void col2imNarrowStrided(ConvGeom g, MemorySegment col, long colBase, int ld, MemorySegment dx, long dxGroup,
                                            int c0, int c1) {
        int hw = g.h() * g.w(), w = g.w(), sw = g.sw(), shift = -g.pl();
        int qlo = firstValidColumn(shift, sw), qhi = endValidColumn(shift, sw, w, g.q());
        if (g.r() == 1 && sw == 2 && shift == 0) {
            for (int c = c0; c < c1; c++) zipRows2(g, col, colBase + (long) c * ld, qhi, dx, dxGroup + (long) c * hw);
            return;
        }
        for (int c = c0; c < c1; c++) {
            long plane = dxGroup + (long) c * hw;
            ConvEpilogue.zero(dx, plane, hw);
            for (int r = 0; r < g.r(); r++) {
                long row = colBase + (long) (c * g.r() + r) * ld;
                for (int p = 0; p < g.p(); p++) {
                    int ih = p * g.sh() - g.pt() + r * g.dh();
                    if (ih < 0 || ih >= g.h()) continue;
                    long d = plane + (long) ih * w + (long) qlo * sw + shift, o = row + (long) p * g.q();
                    for (int q = qlo; q < qhi; q++, d += sw) dx.setAtIndex(F, d, dx.getAtIndex(F, d) + col.getAtIndex(F, o + q));
                }
            }
        }
    }

    /**
     * One 1×1 tap, column stride 2, no left padding (ResNet's downsampling shortcut): every dx row is written once,
     * as col row p zipped with zeros (dx[ih][2j] = col[p][j] for j &lt; qhi) where ih = p·sh − pt is an output
     * row's input row, and as zeros elsewhere. One pass over dx instead of zeroing it and then adding strided
     * scalars (32→64 1×1/2 at 32², batch 16, in a training step: 0.82 ms).
     */
    private static void zipRows2(ConvGeom g, MemorySegment col, long row0, int qhi, MemorySegment dx, long plane) {
        int w = g.w(), vl = VF.length();
        jdk.incubator.vector.FloatVector lo = jdk.incubator.vector.FloatVector.fromArray(VF, ZIP_LO, 0);
        jdk.incubator.vector.FloatVector hi = jdk.incubator.vector.FloatVector.fromArray(VF, ZIP_HI, 0);
        jdk.incubator.vector.FloatVector zero = jdk.incubator.vector.FloatVector.zero(VF);
        java.nio.ByteOrder no = java.nio.ByteOrder.nativeOrder();
        for (int ih = 0; ih < g.h(); ih++) {
            long dst = plane + (long) ih * w;
            int p = Math.floorDiv(ih + g.pt(), g.sh());
            if (p * g.sh() != ih + g.pt() || p >= g.p()) {
                ConvEpilogue.zero(dx, dst, w);
                continue;
            }
            long src = row0 + (long) p * g.q();
            int j = 0;
            for (; j + vl <= qhi && 2 * (j + vl) <= w; j += vl) {
                jdk.incubator.vector.FloatVector a = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, col, (src + j) * 4, no);
                lo.selectFrom(a, zero).intoMemorySegment(dx, (dst + 2L * j) * 4, no);
                hi.selectFrom(a, zero).intoMemorySegment(dx, (dst + 2L * j + vl) * 4, no);
            }
            for (int x = 2 * j; x < w; x++)
                dx.setAtIndex(F, dst + x, (x & 1) == 0 && x / 2 < qhi ? col.getAtIndex(F, src + x / 2) : 0f);
        }
    }

    /** The first output column q whose input column q·sw + shift is ≥ 0. */
    private static int firstValidColumn(int shift, int sw) { return shift >= 0 ? 0 : (-shift + sw - 1) / sw; }

    /** One past the last output column q below {@code q} whose input column q·sw + shift is below w. */
    private static int endValidColumn(int shift, int sw, int w, int q) {
        return Math.min(q, shift >= w ? 0 : (w - 1 - shift) / sw + 1);
    }

    /** dx[plane + ih·w + j·sw + a] = phases[(ih·sw + a)·runW + j] for every column of every row. */
    private static void interleave(MemorySegment phases, int h, int sw, int runW, int w, MemorySegment dx, long plane) {
        if (sw == 2) {
            interleave2(phases, h, runW, w, dx, plane);
            return;
        }
        for (int ih = 0; ih < h; ih++) {
            long src = (long) ih * sw * runW, dst = plane + (long) ih * w;
            for (int a = 0; a < sw; a++) {
                long s0 = src + (long) a * runW;
                for (int col = a, j = 0; col < w; col += sw, j++) dx.setAtIndex(F, dst + col, phases.getAtIndex(F, s0 + j));
            }
        }
    }

    /**
     * {@link #interleave} for column stride 2 with vectors: the two phase runs of a row zipped two vectors at a time
     * (the scalar copy was two fifths of a 3×3/2 layer's col2im), the odd columns left at the row's end scalar.
     */
    private static void interleave2(MemorySegment phases, int h, int runW, int w, MemorySegment dx, long plane) {
        int vl = VF.length();
        jdk.incubator.vector.FloatVector lo = jdk.incubator.vector.FloatVector.fromArray(VF, ZIP_LO, 0);
        jdk.incubator.vector.FloatVector hi = jdk.incubator.vector.FloatVector.fromArray(VF, ZIP_HI, 0);
        java.nio.ByteOrder no = java.nio.ByteOrder.nativeOrder();
        for (int ih = 0; ih < h; ih++) {
            long even = (long) ih * 2 * runW, odd = even + runW, dst = plane + (long) ih * w;
            int j = 0;
            for (; 2 * (j + vl) <= w; j += vl) {
                jdk.incubator.vector.FloatVector a = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, phases, (even + j) * 4, no);
                jdk.incubator.vector.FloatVector b = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, phases, (odd + j) * 4, no);
                lo.selectFrom(a, b).intoMemorySegment(dx, (dst + 2L * j) * 4, no);
                hi.selectFrom(a, b).intoMemorySegment(dx, (dst + 2L * j + vl) * 4, no);
            }
            for (int col = 2 * j; col < w; col++)
                dx.setAtIndex(F, dst + col, phases.getAtIndex(F, (col & 1) == 0 ? even + col / 2 : odd + col / 2));
        }
    }

    /** Lane indices of a two-vector select that zips a and b from lane {@code from}: a[from], b[from], a[from + 1], … */
    private static float[] zip(int vl, int from) {
        float[] idx = new float[vl];
        for (int i = 0; i < vl; i++) idx[i] = (i & 1) == 0 ? from + i / 2 : vl + from + i / 2;
        return idx;
    }

    private static final float[] ZIP_LO = zip(tessera.kernels.Species.FLOAT.length(), 0);
    private static final float[] ZIP_HI = zip(tessera.kernels.Species.FLOAT.length(), tessera.kernels.Species.FLOAT.length() / 2);

    /** The phase-split plane of a strided col2im ({@link #col2imChannels}). */
    static final Workspace.Slot PHASES = Workspace.slot("conv.col2im.phases");

    /**
     * Whether {@link #backwardWeights} takes the channel-last implicit GEMM ({@link F32ConvWeightGradNhwc}): one group,
     * not a plain 1×1 (whose weight gradient is a GEMM on x itself); strided 1×1 layers go to
     * {@link #backwardWeightsStridedPointwise} first when their batch fits. Batch 16, 1 thread, against im2col + GEMM
     * (with a channel-last packed operand from 16 channels): 32→32 3×3 at 32² 5.4 → 3.6 ms, 64→64 3×3 at 16² 3.85 →
     * 3.5 ms, 32→64 3×3/2 2.3 → 2.1 ms, 3→32 3×3 at 32² 1.35 → 0.63 ms.
     */
    static boolean usesChannelLast(ConvGeom g) {
        return g.groups() == 1 && !g.isPointwise();
    }

    /**
     * dW_g = Σ_n dy_g · colᵀ (overwritten); db = Σ dy when non-null. Strided 1×1 layers take one GEMM over the batch
     * ({@link #backwardWeightsStridedPointwise}), other dense non-1×1 layers {@link F32ConvWeightGradNhwc}; grouped ones
     * build col per image, plain 1×1 ones use x itself.
     */
    static void backwardWeights(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                MemorySegment dw, long dwo, MemorySegment db, long dbo) {
        int cg = g.cg(), kg = g.kg(), pq = g.p() * g.q(), crs = cg * g.r() * g.s();
        boolean plain = g.isPointwise();
        if (isStridedPointwise(g) && (long) (g.c() + g.k()) * g.n() * pq <= BATCHED_COL_LIMIT) {
            backwardWeightsStridedPointwise(g, x, xo, dy, dyo, dw, dwo);
            if (db != null) F32ConvDirect.biasGrad(g, dy, dyo, db, dbo);
            return;
        }
        if (usesChannelLast(g)) {
            F32ConvWeightGradNhwc.backwardWeights(g, x, xo, dy, dyo, dw, dwo);
            if (db != null) F32ConvDirect.biasGrad(g, dy, dyo, db, dbo);
            return;
        }
        int chunk = plain ? pq : colChunk(g);
        MemorySegment col = plain ? null : Workspace.ofCurrentThread().floats(COLUMNS, (long) crs * chunk);
        long inImage = (long) g.c() * g.h() * g.w(), outImage = (long) g.k() * pq;
        for (int n = 0; n < g.n(); n++)
            for (int gi = 0; gi < g.groups(); gi++) {
                long xg = xo + n * inImage + (long) gi * cg * g.h() * g.w();
                long dyg = dyo + n * outImage + (long) gi * kg * pq;
                for (int j0 = 0; j0 < pq; j0 += chunk) {
                    int len = Math.min(chunk, pq - j0);
                    MemorySegment b = x;
                    long bOff = xg + j0;
                    int ldb = pq;
                    if (!plain) {
                        im2col(g, x, xg, col, j0, j0 + len);
                        b = col; bOff = 0; ldb = len;
                    }
                    float beta = (n == 0 && j0 == 0) ? 0f : 1f;
                    Gemm.sgemm(false, true, kg, crs, len, 1f, dy, dyg + j0, pq, b, bOff, ldb, beta,
                            dw, dwo + (long) gi * kg * crs, crs);
                }
            }
        if (db != null) F32ConvDirect.biasGrad(g, dy, dyo, db, dbo);
    }

    /** A 1×1 kernel with stride, no padding, one group: every tap reads x at (p·sh, q·sw). */
    private static boolean isStridedPointwise(ConvGeom g) {
        return g.r() == 1 && g.s() == 1 && g.pt() == 0 && g.pl() == 0 && g.groups() == 1 && (g.sh() > 1 || g.sw() > 1)
                && (g.p() - 1) * g.sh() < g.h() && (g.q() - 1) * g.sw() < g.w();
    }

    /**
     * Weight gradient of a strided 1×1 convolution (ResNet's projection shortcut) as one GEMM over the batch:
     * dW [K, C] = dyᵀ [K, N·P·Q] · xsᵀ, with xs [C, N·P·Q] the x pixels the taps read, picked with vector lane
     * compaction, and dyᵀ dy's images side by side. Per image (an im2col of the whole plane and a GEMM of depth P·Q
     * each) it took 0.83 ms for 32→64 1×1/2 at 32², batch 16, in a training step.
     */
    private static void backwardWeightsStridedPointwise(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                                        MemorySegment dw, long dwo) {
        int c = g.c(), k = g.k(), p = g.p(), q = g.q(), pq = p * q, npq = g.n() * pq;
        Workspace ws = Workspace.ofCurrentThread();
        MemorySegment xs = ws.floats(COLUMNS, (long) c * npq), dyT = ws.floats(DY_TRANSPOSED, (long) k * npq);
        imagesSideBySide(g, dy, dyo, dyT);
        // the picks stay on the calling thread: split over the pool too, the GEMM after them took 0.36 -> 0.40 ms (2 threads)
        for (int n = 0; n < g.n(); n++)
            for (int cc = 0; cc < c; cc++) {
                long plane = xo + ((long) n * c + cc) * g.h() * g.w();
                for (int oh = 0; oh < p; oh++)
                    pickColumns(x, plane + (long) oh * g.sh() * g.w(), g.w(), g.sw(), q, xs, (long) cc * npq + (long) n * pq + (long) oh * q);
            }
        Gemm.sgemm(false, true, k, c, npq, 1f, dyT, 0, npq, xs, 0, npq, 0f, dw, dwo, c);
    }

    /**
     * dst[d + j] = x[src + j·sw] for j &lt; count, reading no further than the row's {@code w} floats from src: for
     * sw = 2 the even lanes of two loads compacted, else (and for the tail) scalar.
     */
    private static void pickColumns(MemorySegment x, long src, int w, int sw, int count, MemorySegment dst, long d) {
        int j = 0;
        if (sw == 2) {
            int vl = VF.length();
            jdk.incubator.vector.FloatVector even = jdk.incubator.vector.FloatVector.zero(VF).addIndex(2); // lanes 0, 2, 4, … of [lo | hi]
            java.nio.ByteOrder no = java.nio.ByteOrder.nativeOrder();
            for (; j + vl <= count && 2 * (j + vl) <= w; j += vl) {
                jdk.incubator.vector.FloatVector lo = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, x, (src + 2L * j) * 4, no);
                jdk.incubator.vector.FloatVector hi = jdk.incubator.vector.FloatVector.fromMemorySegment(VF, x, (src + 2L * j + vl) * 4, no);
                even.selectFrom(lo, hi).intoMemorySegment(dst, (d + j) * 4, no);
            }
        }
        for (; j < count; j++) dst.setAtIndex(F, d + j, x.getAtIndex(F, src + (long) j * sw));
    }
}
