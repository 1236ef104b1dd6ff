package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.layout.F32PlaneRows;

/**
 * Winograd F(m×m, 3×3) float32 convolution (Lavin &amp; Gray), m = 2 ({@link ConvAlgorithm#WINOGRAD_F2X3}, α = 4)
 * or m = 4 ({@link ConvAlgorithm#WINOGRAD_F4X3}, α = 6), for 3×3 stride-1 dilation-1 kernels with any padding and
 * groups.
 *
 * <p>Pipeline, per chunk of images: (1) x is transposed in bands of rows into a zero-padded channel-last buffer
 * {@code [image][group][row][col][c]} (vectorized 8×8/16×16 register transposes), so every tile's α×α patch is read
 * in place with no bounds tests; (2) per task = a block of TB output tiles (tiles of all images in one list, so small
 * images batch up) × a range of output-channel blocks: input transform {@code V = Bᵀ d B} vectorized over channels,
 * for each of the α² points a GEMM {@code M[point] (TB × K) = V[point] (TB × C) · U[point] (C × K)} (4×2-vector
 * register tile), and the output transform {@code Y = Aᵀ M A} vectorized over output channels into a channel-last
 * output buffer; (3) that buffer is transposed back to NCHW in bands of rows with bias, residual and activation
 * applied while the band is in cache. The padded input and channel-last output buffers are off-heap workspace memory
 * ({@link #INPUT}, {@link #OUTPUT}); the other scratch is per-thread heap arrays (the GEMM stage reads arrays
 * fastest), grow-only.
 * Filters {@code U = G g Gᵀ} are transformed (in float64) once per call or once per {@link ConvPlan}; layout
 * {@code [group][point][kBlock][Cp][NB]}.
 *
 * <p>Numerical error, measured against the float64 reference ({@code ConvWinogradErrorTest}; inputs and weights
 * uniform in [−1, 1], 3×3 pad 1, C = 16…256), as max |error| / max Σ|terms| in units of u = 2⁻²⁴: direct 1.8–2.8 u,
 * im2col 0.7–1.8 u, F(2×2,3×3) 0.8–1.2 u, F(4×4,3×3) 13–23 u (≈ 1e-6 relative: about 10× direct). The error
 * follows the magnitude of the whole α×α input tile, so it is largest relative to outputs near zero padding. The
 * tests allow {@code (L+2)·u·Σ|terms| + E·u·max Σ|terms|} with E = 16 (F2) and 128 (F4).
 */
final class F32Winograd {
    static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int MR = 4;

    final int m, alpha;

    private final float[] filterMatrixFloat;

    private F32Winograd(int m) {
        this.m = m;
        this.alpha = m + 2;
        double[][] gm = m == 2 ? G2 : G4;
        filterMatrixFloat = new float[alpha * 3];
        for (int i = 0; i < alpha; i++)
            for (int r = 0; r < 3; r++) filterMatrixFloat[i * 3 + r] = (float) gm[i][r];
    }

    static F32Winograd of(ConvAlgorithm a) {
        return a == ConvAlgorithm.WINOGRAD_F2X3 ? F2 : F4;
    }

    static int nb(ConvGeom g) { return F32ConvDirect.nb(g); }

    static int kBlocks(ConvGeom g) { return F32ConvDirect.kBlocks(g); }

    static int cPad(ConvGeom g) { return (g.cg() + VL - 1) / VL * VL; }

    /** Floats of transformed filters. */
    long transformedSize(ConvGeom g) {
        return (long) g.groups() * alpha * alpha * kBlocks(g) * cPad(g) * nb(g);
    }

    // Filter transform matrices G (α × 3)
    private static final double[][] G2 = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    private static final double[][] G4 = {{1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};

    // after G2 and G4, which the constructor reads
    static final F32Winograd F2 = new F32Winograd(2);
    static final F32Winograd F4 = new F32Winograd(4);

    /** G (α × 3) in float32, row-major ({@code [ξ·3 + r]}), for the weight gradient's dW = Gᵀ·dU·G. Not to be modified. */
    float[] filterMatrixFloat() { return filterMatrixFloat; }

    /**
     * U = G·w·Gᵀ per (k, c), packed, computed in float64 and rounded once (a float32 transform added enough error to
     * break ConvPropertiesTest's Winograd input-gradient bound). {@code adjoint}: as {@link F32ConvDirect#packWeights}
     * (w belongs to the convolution whose input gradient g computes: transposed per group and flipped).
     */
    void transformWeights(ConvGeom g, MemorySegment w, long wo, boolean adjoint, float[] u) {
        // split over output-channel blocks: training transforms every layer's filters on every step (a fifth of a
        // ResNet-18 forward pass on two threads when it ran on one). Each block writes every float of its part of u.
        int blocks = g.groups() * kBlocks(g);
        FilterJob job = FILTER_JOB.get();
        job.wino = this; job.g = g; job.w = w; job.wo = wo; job.adjoint = adjoint; job.u = u;
        try {
            ComputePool.parallelFor(blocks, job);
        } finally {
            job.w = null; job.u = null;
        }
    }

    /** One task of {@link #transformWeights}: the filters of one (group, output-channel block). */
    private static final class FilterJob implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        MemorySegment w;
        long wo;
        boolean adjoint;
        float[] u;

        @Override
        public void accept(int t) {
            int kbs = kBlocks(g);
            wino.transformBlock(g, w, wo, adjoint, u, t / kbs, t % kbs);
        }
    }

    private static final ThreadLocal<FilterJob> FILTER_JOB = ThreadLocal.withInitial(FilterJob::new);

    /**
     * {@link #transformWeights} for output-channel block kb of group gi, in float64 rounded once: per input channel,
     * the block's nb filters side by side (zeros past the last output channel), transformed nb/vd columns at a time,
     * so that each point's nb results are one contiguous store: u[gi][point][kb][c][0, nb). Channels [cg, cPad) are
     * zero. (Writing one output channel at a time instead touched a cache line of every point and input channel per
     * float: ResNet-18's 512-channel filters took 22 ms.)
     */
    private void transformBlock(ConvGeom g, MemorySegment w, long wo, boolean adjoint, float[] u, int gi, int kb) {
        double[][] gm = m == 2 ? G2 : G4;
        int cg = g.cg(), kg = g.kg(), nb = nb(g), kbs = kBlocks(g), cp = cPad(g), a2 = alpha * alpha;
        int k0 = kb * nb, kn = Math.min(nb, kg - k0), vd = DSP.length();
        Scratch sc = SCRATCH.get();
        if (sc.blockTaps.length < 9 * nb) sc.blockTaps = new double[9 * nb];
        double[] taps = sc.blockTaps; // taps[(r·3 + s)·nb + j] of output channel k0 + j
        java.util.Arrays.fill(taps, 0, 9 * nb, 0.0);
        int base = (gi * a2 * kbs + kb) * cp * nb, pointStride = kbs * cp * nb;
        for (int c = 0; c < cg; c++) {
            for (int j = 0; j < kn; j++)
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++) {
                        int ko = k0 + j;
                        long src = adjoint // the adjoint reads the filters transposed per group and flipped
                                ? ((((long) gi * cg + c) * kg + ko) * 3 + (2 - r)) * 3 + (2 - s)
                                : ((((long) gi * kg + ko) * cg + c) * 3 + r) * 3 + s;
                        taps[(r * 3 + s) * nb + j] = w.getAtIndex(F, wo + src);
                    }
            for (int j0 = 0; j0 < nb; j0 += vd) filterColumns(gm, taps, nb, j0, u, base + c * nb + j0, pointStride);
        }
        for (int point = 0; point < a2; point++)
            java.util.Arrays.fill(u, base + point * pointStride + cg * nb, base + point * pointStride + cp * nb, 0f);
    }

    /** Float64 lanes for the filter transform: the kernels' vector width ({@link tessera.kernels.Species#FLOAT}) in doubles. */
    private static final VectorSpecies<Double> DSP = VectorSpecies.of(double.class,
            jdk.incubator.vector.VectorShape.forBitSize(SP.vectorBitSize()));
    private static final VectorSpecies<Float> FSP_HALF = VectorSpecies.of(float.class,
            jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, DSP.vectorBitSize() / 2)));

    /**
     * U = G·g·Gᵀ for the filters in columns j0 … j0 + vd − 1 of {@code taps[(r·3 + s)·nb + j]} (float64), each point
     * rounded to float once and stored contiguously at {@code u[dst0 + point·pointStride]}: t = G·g (products summed
     * in tap order), then U = t·Gᵀ, without fused multiply-adds — the scalar formula's roundings, lane by lane.
     */
    private void filterColumns(double[][] gm, double[] taps, int nb, int j0, float[] u, int dst0, int pointStride) {
        int a = alpha;
        DoubleVector f0 = DoubleVector.fromArray(DSP, taps, j0), f1 = DoubleVector.fromArray(DSP, taps, nb + j0),
                f2 = DoubleVector.fromArray(DSP, taps, 2 * nb + j0), f3 = DoubleVector.fromArray(DSP, taps, 3 * nb + j0),
                f4 = DoubleVector.fromArray(DSP, taps, 4 * nb + j0), f5 = DoubleVector.fromArray(DSP, taps, 5 * nb + j0),
                f6 = DoubleVector.fromArray(DSP, taps, 6 * nb + j0), f7 = DoubleVector.fromArray(DSP, taps, 7 * nb + j0),
                f8 = DoubleVector.fromArray(DSP, taps, 8 * nb + j0);
        for (int i = 0; i < a; i++) {
            double g0 = gm[i][0], g1 = gm[i][1], g2 = gm[i][2];
            DoubleVector t0 = f0.mul(g0).add(f3.mul(g1)).add(f6.mul(g2));
            DoubleVector t1 = f1.mul(g0).add(f4.mul(g1)).add(f7.mul(g2));
            DoubleVector t2 = f2.mul(g0).add(f5.mul(g1)).add(f8.mul(g2));
            for (int l = 0; l < a; l++) {
                DoubleVector v = t0.mul(gm[l][0]).add(t1.mul(gm[l][1])).add(t2.mul(gm[l][2]));
                ((FloatVector) v.convertShape(VectorOperators.D2F, FSP_HALF, 0)).intoArray(u, dst0 + (i * a + l) * pointStride);
            }
        }
    }

    // ------------------------------------------------------------------ forward

    /**
     * The tile stage of one chunk of images: input (padded NHWC, from {@link #prepareInput}) → output (NHWC tiles,
     * for {@link #finishOutput}); task = a block of tiles × a range of output-channel blocks.
     */
    private static final class TileJob implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        float[] u;
        MemorySegment in, out;
        int tb, tiles, kSplits, kbPerSplit;

        @Override
        public void accept(int t) {
            int blk = t / kSplits, ks = t % kSplits;
            int t0 = blk * tb, t1 = Math.min(tiles, t0 + tb);
            int kb0 = ks * kbPerSplit, kb1 = Math.min(kBlocks(g), kb0 + kbPerSplit);
            wino.task(g, u, in, out, t0, t1, tb, kb0, kb1);
        }
    }

    /** The layout passes of one chunk: task = a band of rows of one image and group (input rows or output rows). */
    private static final class RowJob implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        boolean input;
        int n0, rows, bands, bandRows;
        MemorySegment x, in, out, bias, res, y;
        long xo, bo, ro, yo;
        ActivationFn act;

        /** Splits {@code rows} rows of each of {@code units} (image, group) pairs into bands, about two per thread. */
        void bands(int units, int rows) {
            this.rows = rows;
            int threads = ComputePool.threads();
            int want = threads == 1 ? 1 : Math.min(rows, (2 * threads + units - 1) / units);
            bandRows = (rows + want - 1) / want;
            bands = (rows + bandRows - 1) / bandRows;
        }

        @Override
        public void accept(int t) {
            int band = t % bands, ng = t / bands, gi = ng % g.groups(), nl = ng / g.groups();
            int r0 = band * bandRows, r1 = Math.min(rows, r0 + bandRows);
            if (input) wino.prepareInput(g, x, xo, n0, nl, gi, r0, r1, in);
            else wino.finishOutput(g, out, n0, nl, gi, r0, r1, bias, bo, res, ro, act, y, yo);
        }
    }

    private static final ThreadLocal<TileJob> TILE_JOB = ThreadLocal.withInitial(TileJob::new);
    private static final ThreadLocal<RowJob> ROW_JOB = ThreadLocal.withInitial(RowJob::new);

    int tilesH(ConvGeom g) { return (g.p() + m - 1) / m; }

    int tilesW(ConvGeom g) { return (g.q() + m - 1) / m; }

    /** Rows of the padded input buffer: every tile's α rows (input row ih sits at ih + pt). */
    int paddedH(ConvGeom g) { return tilesH(g) * m + 2; }

    int paddedW(ConvGeom g) { return tilesW(g) * m + 2; }

    /** Floats per image of the padded NHWC input buffer ([group][paddedH][paddedW][cPad]). */
    long inputFloats(ConvGeom g) { return (long) g.groups() * paddedH(g) * paddedW(g) * cPad(g); }

    /** Floats per image of the NHWC output buffer ([tilesH·m][tilesW·m][groups·kPad]). */
    long outputFloats(ConvGeom g) { return (long) tilesH(g) * m * tilesW(g) * m * g.groups() * kBlocks(g) * nb(g); }

    /**
     * Images per pass of the pipeline. Filters in cache: as many images as keep both layout buffers within a quarter
     * of L2 (at least one): each pass's buffers are then still in cache for the next stage (ResNet's 64-channel 56×56
     * layer at batch 8, 1 thread: 12.8 ms with all 8 images per pass, 10.2 ms with one). Streamed filters: up to
     * ~32 MB of buffers, so that one block of tiles spans images and the filters are read once.
     */
    private int imagesPerChunk(ConvGeom g) {
        long per = inputFloats(g) + outputFloats(g);
        long budget = streamsFilters(g) ? 8L << 20 : Gemm.l2CacheBytes() / 16;
        return (int) Math.max(1, Math.min(g.n(), budget / per));
    }

    /**
     * y = act(conv(x) + bias + residual) with transformed filters u. Per chunk of images: x → padded channel-last
     * buffer (vectorized transposes), tiles → transforms → per-point GEMMs → output transforms into a channel-last
     * buffer, then back to NCHW with bias, residual and activation fused into that pass.
     */
    void forward(ConvGeom g, MemorySegment x, long xo, float[] u, MemorySegment bias, long bo,
                 MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        int chunk = imagesPerChunk(g), chunks = (g.n() + chunk - 1) / chunk;
        if (sharesOutChunks(g)) {
            // enough chunks to share out whole: each task takes one through the whole pipeline on its thread, with
            // that thread's buffers, and there is one barrier per call instead of three per chunk
            ChunkJob job = CHUNK_JOB.get();
            job.wino = this; job.g = g; job.x = x; job.xo = xo; job.u = u; job.bias = bias; job.bo = bo; job.res = res;
            job.ro = ro; job.act = act; job.y = y; job.yo = yo; job.chunk = chunk;
            try {
                ComputePool.parallelFor(chunks, job);
            } finally {
                job.x = null; job.u = null; job.bias = null; job.res = null; job.y = null;
            }
            return;
        }
        tessera.memory.Workspace ws = tessera.memory.Workspace.ofCurrentThread();
        MemorySegment in = ws.floats(INPUT, chunk * inputFloats(g)), out = ws.floats(OUTPUT, chunk * outputFloats(g));
        RowJob rj = ROW_JOB.get();
        rj.wino = this; rj.g = g; rj.x = x; rj.xo = xo; rj.in = in; rj.out = out; rj.bias = bias; rj.bo = bo;
        rj.res = res; rj.ro = ro; rj.act = act; rj.y = y; rj.yo = yo;
        for (int n0 = 0; n0 < g.n(); n0 += chunk) {
            int nc = Math.min(chunk, g.n() - n0);
            rj.n0 = n0;
            rj.input = true;
            rj.bands(nc * g.groups(), paddedH(g));
            ComputePool.parallelFor(nc * g.groups() * rj.bands, rj);
            tiles(g, u, in, out, nc);
            rj.input = false;
            rj.bands(nc * g.groups(), g.p());
            ComputePool.parallelFor(nc * g.groups() * rj.bands, rj);
        }
        rj.x = null; rj.in = null; rj.out = null; rj.bias = null; rj.res = null; rj.y = null;
    }

    /**
     * Whether the forward pass gives each thread whole chunks of images (at least two chunks per thread, filters in
     * cache) instead of splitting every chunk's stages across the threads. Small-ResNet training step, batch 16, 2
     * threads, fastest of ~5,000 calls: 32→32 3×3 at 32² forward 0.78 → 0.72 ms, input gradient 0.80 → 0.73 / 0.72;
     * 64→64 at 16² 0.65 → 0.58 / 0.59, 0.72 / 0.65 → 0.59 / 0.62 (one chunk split three ways took a barrier per stage,
     * 48 per call).
     */
    boolean sharesOutChunks(ConvGeom g) {
        int threads = ComputePool.threads(), chunk = imagesPerChunk(g);
        return threads > 1 && (g.n() + chunk - 1) / chunk >= 2 * threads && !streamsFilters(g);
    }

    /**
     * One chunk of images through the whole pipeline on the calling thread: layout, tiles in blocks, output pass. The
     * same arithmetic per tile as the split pipeline, so the same bits.
     */
    private void chunk(ConvGeom g, MemorySegment x, long xo, float[] u, MemorySegment bias, long bo, MemorySegment res,
                       long ro, ActivationFn act, MemorySegment y, long yo, int n0, int nc) {
        tessera.memory.Workspace ws = tessera.memory.Workspace.ofCurrentThread();
        MemorySegment in = ws.floats(INPUT, nc * inputFloats(g)), out = ws.floats(OUTPUT, nc * outputFloats(g));
        for (int nl = 0; nl < nc; nl++)
            for (int gi = 0; gi < g.groups(); gi++) prepareInput(g, x, xo, n0, nl, gi, 0, paddedH(g), in);
        int tiles = nc * tilesH(g) * tilesW(g), tb = tileBlock(g, tiles, 1);
        for (int t0 = 0; t0 < tiles; t0 += tb) task(g, u, in, out, t0, Math.min(tiles, t0 + tb), tb, 0, kBlocks(g));
        for (int nl = 0; nl < nc; nl++)
            for (int gi = 0; gi < g.groups(); gi++) finishOutput(g, out, n0, nl, gi, 0, g.p(), bias, bo, res, ro, act, y, yo);
    }

    /** A task of the chunk-parallel forward: chunk t of the batch ({@link #chunk}). */
    private static final class ChunkJob implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        MemorySegment x, bias, res, y;
        long xo, bo, ro, yo;
        float[] u;
        ActivationFn act;
        int chunk;

        @Override
        public void accept(int t) {
            int n0 = t * chunk;
            wino.chunk(g, x, xo, u, bias, bo, res, ro, act, y, yo, n0, Math.min(chunk, g.n() - n0));
        }
    }

    private static final ThreadLocal<ChunkJob> CHUNK_JOB = ThreadLocal.withInitial(ChunkJob::new);

    /** Tiles per block of the tile stage for {@code tiles} tiles shared by {@code threads} threads. */
    private int tileBlock(ConvGeom g, int tiles, int threads) {
        int a2 = this.alpha * this.alpha, cp = cPad(g), kp = kBlocks(g) * nb(g);
        if (streamsFilters(g)) {
            // the transformed filters do not fit the last-level cache, so every block of tiles reads them from memory
            // (512 channels: 37.7 MB): one block of up to STREAM_TILES tiles (V and M then live in L3, ~150 KB per
            // tile), with the threads splitting the output channels instead of the tiles (512→512 7×7 at batch 8,
            // 1 thread: 15.8 → 8.3 ms; at batch 1 the 4 tiles were one block already)
            return Math.min((tiles + MR - 1) / MR * MR, STREAM_TILES);
        }
        int budget = 80_000 / (a2 * (cp + kp));
        int tb = Math.max(MR, budget / MR * MR);
        tb = Math.min(tb, 24 * MR);
        if (threads > 1) {
            int perTask = (tiles + 2 * threads - 1) / (2 * threads);
            tb = Math.max(MR, Math.min(tb, (perTask + MR - 1) / MR * MR));
        }
        return tb;
    }

    private void tiles(ConvGeom g, float[] u, MemorySegment in, MemorySegment out, int images) {
        int tiles = images * tilesH(g) * tilesW(g);
        int threads = ComputePool.threads();
        int tb = tileBlock(g, tiles, threads);
        boolean stream = streamsFilters(g);
        int blocks = (tiles + tb - 1) / tb, kbs = kBlocks(g);
        int want = stream ? threads : 2 * threads; // streaming: each split repeats the input transform
        int kSplits = Math.max(1, Math.min(kbs, (want + blocks - 1) / blocks));
        if (threads == 1) kSplits = 1;
        int kbPerSplit = (kbs + kSplits - 1) / kSplits;
        kSplits = (kbs + kbPerSplit - 1) / kbPerSplit;
        TileJob job = TILE_JOB.get();
        job.kSplits = kSplits; job.kbPerSplit = kbPerSplit;
        job.wino = this; job.g = g; job.u = u; job.in = in; job.out = out; job.tb = tb; job.tiles = tiles;
        ComputePool.parallelFor(blocks * kSplits, job);
        job.u = null; job.in = null; job.out = null;
    }

    /**
     * The distance in floats between consecutive point planes of a transformed-tile buffer holding {@code floats} per
     * point: rounded up to 4 KiB and one cache line added, so that the α² planes a transform writes start on α²
     * different lines modulo 4 KiB. (Planes a multiple of 4 KiB apart made every transform's stores alias its loads
     * of the next tile in the store buffer.)
     */
    static int planeStride(int floats) {
        return (floats + 1023) / 1024 * 1024 + 16;
    }

    /** Tiles per block when the transformed filters are streamed from memory ({@link #streamsFilters}). */
    private static final int STREAM_TILES = 64;

    /**
     * Transformed filters larger than this many bytes are streamed ({@link #streamsFilters}): half the last-level
     * cache. Package-private and mutable so that tests can force either blocking on small layers.
     */
    static volatile long filterCacheBytes = Gemm.lastLevelCacheBytes() / 2;

    /** Whether the transformed filters (α²·Cp·Kp floats per group) exceed {@link #filterCacheBytes}. */
    boolean streamsFilters(ConvGeom g) {
        return 4L * alpha * alpha * cPad(g) * kBlocks(g) * nb(g) * g.groups() > filterCacheBytes;
    }

    /**
     * Padded rows [row0, row1) of image n0+nl, group gi: zeros, then (inside the input) x's rows in channel-last order
     * ([w][c], channels padded with zeros to cPad), one band of rows at a time ({@link F32PlaneRows}).
     */
    void prepareInput(ConvGeom g, MemorySegment x, long xo, int n0, int nl, int gi, int row0, int row1, MemorySegment in) {
        int hp = paddedH(g), wp = paddedW(g), cp = cPad(g), cg = g.cg();
        long rowFloats = (long) wp * cp, base = ((long) nl * g.groups() + gi) * hp * rowFloats;
        int pl = g.pl(), w0 = Math.max(0, -pl), w1 = Math.min(g.w(), wp - pl);
        int in0 = Math.max(row0, g.pt()), in1 = Math.min(row1, g.pt() + g.h()); // padded rows that hold input rows
        if (w0 >= w1 || in0 >= in1) {
            ConvEpilogue.zero(in, base + row0 * rowFloats, (row1 - row0) * rowFloats);
            return;
        }
        if (in0 > row0) ConvEpilogue.zero(in, base + row0 * rowFloats, (in0 - row0) * rowFloats);
        if (row1 > in1) ConvEpilogue.zero(in, base + in1 * rowFloats, (row1 - in1) * rowFloats);
        // zeros only where the transpose below writes nothing: the padding columns
        for (int row = in0; row < in1; row++) {
            long d = base + row * rowFloats;
            ConvEpilogue.zero(in, d, (long) (w0 + pl) * cp);
            ConvEpilogue.zero(in, d + (long) (w1 + pl) * cp, (long) (wp - w1 - pl) * cp);
        }
        long src = xo + (((long) (n0 + nl) * g.c() + (long) gi * cg) * g.h() + in0 - g.pt()) * g.w() + w0;
        F32PlaneRows.toChannelLast(x, src, (long) g.h() * g.w(), g.w(), cg, in1 - in0, w1 - w0,
                in, base + in0 * rowFloats + (long) (w0 + pl) * cp, rowFloats, cp);
    }

    /**
     * Output rows [oh0, oh1) of image n0+nl, group gi: [q][k] → NCHW ({@link F32PlaneRows}), then bias, residual and
     * activation per channel over the band.
     */
    private void finishOutput(ConvGeom g, MemorySegment out, int n0, int nl, int gi, int oh0, int oh1,
                              MemorySegment bias, long bo, MemorySegment res, long ro, ActivationFn act,
                              MemorySegment y, long yo) {
        int qt = tilesW(g) * m, pt = tilesH(g) * m, kt = g.groups() * kBlocks(g) * nb(g), kg = g.kg();
        long src = (((long) nl * pt + oh0) * qt) * kt + (long) gi * kBlocks(g) * nb(g);
        long pq = (long) g.p() * g.q();
        long rel = (((long) (n0 + nl) * g.k() + (long) gi * kg) * g.p() + oh0) * g.q();
        int rows = oh1 - oh0;
        F32PlaneRows.fromChannelLast(out, src, (long) qt * kt, kt, kg, rows, g.q(), y, yo + rel, pq, g.q());
        if (bias == null && res == null && act.isIdentity()) return;
        for (int k = 0; k < kg; k++) {
            float b = bias == null ? 0f : bias.getAtIndex(F, bo + (long) gi * kg + k);
            ConvEpilogue.apply(y, yo + rel + k * pq, rows * g.q(), b, res, ro + rel + k * pq, act);
        }
    }

    /**
     * Tiles [t0, t1) of the chunk (tile = (image, tile row, tile column)) for output-channel blocks [kb0, kb1) of
     * every group. Scratch: the thread's {@link Scratch} (V and transform temp; M and transform temp).
     */
    void task(ConvGeom g, float[] u, MemorySegment in, MemorySegment out, int t0, int t1, int tbMax, int kb0, int kb1) {
        int a = this.alpha, a2 = a * a;
        int cp = cPad(g), nb = nb(g), kbs = kBlocks(g), kp = kbs * nb, kt = g.groups() * kp;
        int tbp = (tbMax + MR - 1) / MR * MR, count = t1 - t0;
        Scratch sc = SCRATCH.get();
        int vStride = planeStride(tbp * cp), mStride = planeStride(tbp * kp), vSize = a2 * vStride;
        float[] vs = sc.patches(vSize + a2 * VL);
        int vBase = 0, tmpBase = vSize;
        float[] ms = sc.products(a2 * mStride + a2 * VL);
        int mBase = 0, tmp2Base = a2 * mStride;
        int th = tilesH(g), tw = tilesW(g), hp = paddedH(g), wp = paddedW(g), pt = th * m, qt = tw * m;
        for (int gi = 0; gi < g.groups(); gi++) {
            // 1. input transform of each tile's α×α patch (read in place from the padded buffer) into V[point][tile][c]
            for (int t = 0; t < count; t++) {
                int tile = t0 + t, nl = tile / (th * tw), rem = tile % (th * tw), ty = rem / tw, tx = rem % tw;
                long base = (((long) (nl * g.groups() + gi) * hp + ty * m) * wp + tx * m) * cp;
                for (int cv = 0; cv < cp; cv += VL)
                    inputTransform(in, base + cv, wp * cp, cp, vs, tmpBase, vs, vBase + t * cp + cv, vStride);
            }
            // 2. GEMM per point
            int uGroup = gi * a2 * kbs * cp * nb;
            for (int pt2 = 0; pt2 < a2; pt2++)
                for (int kb = kb0; kb < kb1; kb++) {
                    int uOff = uGroup + (pt2 * kbs + kb) * cp * nb;
                    for (int r0 = 0; r0 < count; r0 += MR) {
                        int vOff = vBase + pt2 * vStride + r0 * cp;
                        int mOff = mBase + pt2 * mStride + r0 * kp + kb * nb;
                        if (nb == 2 * VL) gemm4x2(vs, vOff, cp, u, uOff, g.cg(), ms, mOff, kp);
                        else gemm4x1(vs, vOff, cp, u, uOff, g.cg(), ms, mOff, kp);
                    }
                }
            // 3. output transform straight into the channel-last output buffer
            for (int t = 0; t < count; t++) {
                int tile = t0 + t, nl = tile / (th * tw), rem = tile % (th * tw), ty = rem / tw, tx = rem % tw;
                long dst = ((long) (nl * pt + ty * m) * qt + tx * m) * kt + gi * kp;
                for (int kv = kb0 * nb; kv < kb1 * nb; kv += VL) {
                    if (kv >= g.kg()) break;
                    outputTransform(ms, mBase + t * kp + kv, mStride, tmp2Base, out, dst + kv, qt * kt, kt);
                }
            }
        }
    }

    /**
     * V = Bᵀ d B on one channel vector: d element (i, j) at float {@code base + i·rowStride + j·colStride} of the native
     * segment src (the padded channel-last buffer), V point p
     * at {@code s[vOff + p·pointStride]}; {@code t[tmp ..]} is α² vectors of scratch.
     */
    void inputTransform(MemorySegment src, long base, int rowStride, int colStride, float[] t, int tmp, float[] s, int vOff,
                        int pointStride) {
        int a = alpha;
        // rows: for each column j, transform down the α rows -> tmp[i][j]
        for (int j = 0; j < a; j++) {
            if (m == 2) in4(src, base + (long) j * colStride, rowStride, t, tmp + j * VL, a * VL);
            else in6(src, base + (long) j * colStride, rowStride, t, tmp + j * VL, a * VL);
        }
        // columns: for each row i, transform along j -> V[i·α + l]
        for (int i = 0; i < a; i++) {
            if (m == 2) in4(t, tmp + i * a * VL, VL, s, vOff + i * a * pointStride, pointStride);
            else in6(t, tmp + i * a * VL, VL, s, vOff + i * a * pointStride, pointStride);
        }
    }

    /**
     * Z = A·dY·Aᵀ on one output-channel vector — the adjoint of the output transform, for the weight gradient: dY
     * element (i, j) of an m×m tile at float {@code base + i·rowStride + j·colStride} of the native segment src, Z point p at
     * {@code z[zOff + p·pointStride]}; {@code t[tmp ..]} is α·m vectors of scratch.
     */
    void outputAdjoint(MemorySegment src, long base, int rowStride, int colStride, float[] t, int tmp, float[] z, int zOff,
                       int pointStride) {
        int a = alpha;
        // columns: for each column j, A down the m rows -> tmp[ξ][j]
        for (int j = 0; j < m; j++) {
            if (m == 2) adj4(src, base + (long) j * colStride, rowStride, t, tmp + j * VL, m * VL);
            else adj6(src, base + (long) j * colStride, rowStride, t, tmp + j * VL, m * VL);
        }
        // rows: for each ξ, A along j -> Z[ξ·α + l]
        for (int i = 0; i < a; i++) {
            if (m == 2) adj4(t, tmp + i * m * VL, VL, z, zOff + i * a * pointStride, pointStride);
            else adj6(t, tmp + i * m * VL, VL, z, zOff + i * a * pointStride, pointStride);
        }
    }

    /** F(2,3) A (4 × 2, the transpose of {@link #out4}'s Aᵀ): 2 vectors at s[src + i·ss] → 4 at d[dst + i·ds]. */
    static void adj4(float[] s, int src, int ss, float[] d, int dst, int ds) {
        adj4(ld(s, src), ld(s, src + ss), d, dst, ds);
    }

    /** {@link #adj4} reading a native segment (float offsets). */
    static void adj4(MemorySegment s, long src, int ss, float[] d, int dst, int ds) {
        adj4(ld(s, src), ld(s, src + ss), d, dst, ds);
    }

    private static void adj4(FloatVector y0, FloatVector y1, float[] d, int dst, int ds) {
        y0.intoArray(d, dst);
        y0.add(y1).intoArray(d, dst + ds);
        y0.sub(y1).intoArray(d, dst + 2 * ds);
        y1.neg().intoArray(d, dst + 3 * ds);
    }

    /** F(4,3) A (6 × 4, the transpose of {@link #out6}'s Aᵀ): 4 vectors → 6. */
    static void adj6(float[] s, int src, int ss, float[] d, int dst, int ds) {
        adj6(ld(s, src), ld(s, src + ss), ld(s, src + 2 * ss), ld(s, src + 3 * ss), d, dst, ds);
    }

    /** {@link #adj6} reading a native segment (float offsets). */
    static void adj6(MemorySegment s, long src, int ss, float[] d, int dst, int ds) {
        adj6(ld(s, src), ld(s, src + ss), ld(s, src + 2L * ss), ld(s, src + 3L * ss), d, dst, ds);
    }

    private static void adj6(FloatVector y0, FloatVector y1, FloatVector y2, FloatVector y3, float[] d, int dst, int ds) {
        FloatVector e = y0.add(y2), o = y1.add(y3);                    // y0 + y2, y1 + y3
        FloatVector e4 = y2.mul(4f).add(y0), o4 = y3.mul(4f).add(y1).mul(2f); // y0 + 4y2, 2y1 + 8y3
        y0.intoArray(d, dst);
        e.add(o).intoArray(d, dst + ds);
        e.sub(o).intoArray(d, dst + 2 * ds);
        e4.add(o4).intoArray(d, dst + 3 * ds);
        e4.sub(o4).intoArray(d, dst + 4 * ds);
        y3.intoArray(d, dst + 5 * ds);
    }

    private static FloatVector ld(float[] s, int i) { return FloatVector.fromArray(SP, s, i); }

    private static FloatVector ld(MemorySegment s, long i) { return FloatVector.fromMemorySegment(SP, s, 4 * i, NO); }

    /** F(2,3) Bᵀ on 4 vectors at s[src + i·ss] → d[dst + i·ds] (float offsets). */
    static void in4(float[] s, int src, int ss, float[] d, int dst, int ds) {
        in4(ld(s, src), ld(s, src + ss), ld(s, src + 2 * ss), ld(s, src + 3 * ss), d, dst, ds);
    }

    /** {@link #in4} reading a native segment (float offsets). */
    static void in4(MemorySegment s, long src, int ss, float[] d, int dst, int ds) {
        in4(ld(s, src), ld(s, src + ss), ld(s, src + 2L * ss), ld(s, src + 3L * ss), d, dst, ds);
    }

    private static void in4(FloatVector d0, FloatVector d1, FloatVector d2, FloatVector d3, float[] d, int dst, int ds) {
        d0.sub(d2).intoArray(d, dst);
        d1.add(d2).intoArray(d, dst + ds);
        d2.sub(d1).intoArray(d, dst + 2 * ds);
        d1.sub(d3).intoArray(d, dst + 3 * ds);
    }

    /** F(4,3) Bᵀ on 6 vectors. */
    static void in6(float[] s, int src, int ss, float[] d, int dst, int ds) {
        in6(ld(s, src), ld(s, src + ss), ld(s, src + 2 * ss), ld(s, src + 3 * ss), ld(s, src + 4 * ss), ld(s, src + 5 * ss),
                d, dst, ds);
    }

    /** {@link #in6} reading a native segment (float offsets). */
    static void in6(MemorySegment s, long src, int ss, float[] d, int dst, int ds) {
        in6(ld(s, src), ld(s, src + ss), ld(s, src + 2L * ss), ld(s, src + 3L * ss), ld(s, src + 4L * ss),
                ld(s, src + 5L * ss), d, dst, ds);
    }

    private static void in6(FloatVector d0, FloatVector d1, FloatVector d2, FloatVector d3, FloatVector d4, FloatVector d5,
                            float[] d, int dst, int ds) {
        FloatVector t0 = d4.sub(d2.mul(4f)), t1 = d3.sub(d1.mul(4f)); // d4-4d2, d3-4d1
        FloatVector t2 = d4.sub(d2), t3 = d3.sub(d1).mul(2f);         // d4-d2, 2(d3-d1)
        d0.mul(4f).sub(d2.mul(5f)).add(d4).intoArray(d, dst);
        t0.add(t1).intoArray(d, dst + ds);
        t0.sub(t1).intoArray(d, dst + 2 * ds);
        t2.add(t3).intoArray(d, dst + 3 * ds);
        t2.sub(t3).intoArray(d, dst + 4 * ds);
        d1.mul(4f).sub(d3.mul(5f)).add(d5).intoArray(d, dst + 5 * ds);
    }

    /**
     * Y = Aᵀ M A on one output-channel vector: M point p at {@code s[mOff + p·pointStride]}; output element (i, j)
     * written to float {@code dst + i·rowStride + j·colStride} of the native segment out; {@code tmp} is α² vectors of
     * scratch in s.
     */
    private void outputTransform(float[] s, int mOff, int pointStride, int tmp, MemorySegment out, long dst, int rowStride,
                                 int colStride) {
        int a = alpha;
        for (int j = 0; j < a; j++) {
            if (m == 2) out4(s, mOff + j * pointStride, a * pointStride, s, tmp + j * VL, a * VL);
            else out6(s, mOff + j * pointStride, a * pointStride, s, tmp + j * VL, a * VL);
        }
        for (int i = 0; i < m; i++) {
            if (m == 2) out4(s, tmp + i * a * VL, VL, out, dst + (long) i * rowStride, colStride);
            else out6(s, tmp + i * a * VL, VL, out, dst + (long) i * rowStride, colStride);
        }
    }

    /** F(2,3) Aᵀ: 4 vectors → 2. */
    static void out4(float[] s, int src, int ss, float[] d, int dst, int ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss);
        m0.add(m1).add(m2).intoArray(d, dst);
        m1.sub(m2).sub(m3).intoArray(d, dst + ds);
    }

    /** {@link #out4} writing a native segment (float offsets). */
    static void out4(float[] s, int src, int ss, MemorySegment d, long dst, int ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss);
        m0.add(m1).add(m2).intoMemorySegment(d, 4 * dst, NO);
        m1.sub(m2).sub(m3).intoMemorySegment(d, 4 * (dst + ds), NO);
    }

    /** F(4,3) Aᵀ: 6 vectors → 4. */
    static void out6(float[] s, int src, int ss, float[] d, int dst, int ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss),
                m4 = ld(s, src + 4 * ss), m5 = ld(s, src + 5 * ss);
        FloatVector sa = m1.add(m2), da = m1.sub(m2), sb = m3.add(m4), db = m3.sub(m4);
        m0.add(sa).add(sb).intoArray(d, dst);
        db.mul(2f).add(da).intoArray(d, dst + ds);
        sb.mul(4f).add(sa).intoArray(d, dst + 2 * ds);
        db.mul(8f).add(da).add(m5).intoArray(d, dst + 3 * ds);
    }

    /** {@link #out6} writing a native segment (float offsets). */
    static void out6(float[] s, int src, int ss, MemorySegment d, long dst, int ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss),
                m4 = ld(s, src + 4 * ss), m5 = ld(s, src + 5 * ss);
        FloatVector sa = m1.add(m2), da = m1.sub(m2), sb = m3.add(m4), db = m3.sub(m4);
        m0.add(sa).add(sb).intoMemorySegment(d, 4 * dst, NO);
        db.mul(2f).add(da).intoMemorySegment(d, 4 * (dst + ds), NO);
        sb.mul(4f).add(sa).intoMemorySegment(d, 4 * (dst + 2L * ds), NO);
        db.mul(8f).add(da).add(m5).intoMemorySegment(d, 4 * (dst + 3L * ds), NO);
    }

    /**
     * M rows [4] × 2 vectors: M[r][0..2VL) = Σ_c V[r][c]·U[c][0..2VL). Heap arrays and 4 rows (8 accumulators) for
     * the same reason as the GEMM microkernels ({@code F32Gemm4x2v}): C2 keeps them in AVX2's 16 registers and hoists the checks.
     */
    static void gemm4x2(float[] v, int vOff, int ldv, float[] u, int uOff, int kc, float[] mm, int mOff, int ldm) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
                a30 = a00, a31 = a00;
        int r0 = vOff, r1 = r0 + ldv, r2 = r1 + ldv, r3 = r2 + ldv;
        int ub = uOff;
        for (int c = 0; c < kc; c++, ub += 2 * VL) {
            FloatVector w0 = FloatVector.fromArray(SP, u, ub);
            FloatVector w1 = FloatVector.fromArray(SP, u, ub + VL);
            FloatVector x = FloatVector.broadcast(SP, v[r0 + c]);
            a00 = w0.fma(x, a00); a01 = w1.fma(x, a01);
            x = FloatVector.broadcast(SP, v[r1 + c]);
            a10 = w0.fma(x, a10); a11 = w1.fma(x, a11);
            x = FloatVector.broadcast(SP, v[r2 + c]);
            a20 = w0.fma(x, a20); a21 = w1.fma(x, a21);
            x = FloatVector.broadcast(SP, v[r3 + c]);
            a30 = w0.fma(x, a30); a31 = w1.fma(x, a31);
        }
        int o = mOff;
        a00.intoArray(mm, o); a01.intoArray(mm, o + VL);
        a10.intoArray(mm, o + ldm); a11.intoArray(mm, o + ldm + VL);
        a20.intoArray(mm, o + 2 * ldm); a21.intoArray(mm, o + 2 * ldm + VL);
        a30.intoArray(mm, o + 3 * ldm); a31.intoArray(mm, o + 3 * ldm + VL);
    }

    /** M rows [4] × 1 vector. */
    static void gemm4x1(float[] v, int vOff, int ldv, float[] u, int uOff, int kc, float[] mm, int mOff, int ldm) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
        int r0 = vOff, r1 = r0 + ldv, r2 = r1 + ldv, r3 = r2 + ldv;
        int ub = uOff;
        for (int c = 0; c < kc; c++, ub += VL) {
            FloatVector w0 = FloatVector.fromArray(SP, u, ub);
            a0 = w0.fma(FloatVector.broadcast(SP, v[r0 + c]), a0);
            a1 = w0.fma(FloatVector.broadcast(SP, v[r1 + c]), a1);
            a2 = w0.fma(FloatVector.broadcast(SP, v[r2 + c]), a2);
            a3 = w0.fma(FloatVector.broadcast(SP, v[r3 + c]), a3);
        }
        a0.intoArray(mm, mOff); a1.intoArray(mm, mOff + ldm); a2.intoArray(mm, mOff + 2 * ldm);
        a3.intoArray(mm, mOff + 3 * ldm);
    }

    /** The transformed-filter buffer of the calling thread for one-off (unplanned) calls; grows, never shrinks. */
    static float[] filterScratch(long floats) {
        Scratch sc = SCRATCH.get();
        if (sc.filters.length < floats) sc.filters = new float[Math.toIntExact(floats)];
        return sc.filters;
    }

    /**
     * Per-thread heap scratch: patches/V/transform temp, M/output temp, and transformed filters of unplanned calls.
     * Heap arrays because the GEMM stage reads arrays fastest; the transforms see them through cached heap segments.
     * Grow-only, so steady-state calls allocate nothing.
     */
    private static final class Scratch {
        float[] patchArray = new float[0], productArray = new float[0], filters = new float[0];

        /** One input channel's taps of an output-channel block's filters in float64, for the filter transform. */
        double[] blockTaps = new double[0];

        float[] patches(int floats) {
            if (patchArray.length < floats) patchArray = new float[floats];
            return patchArray;
        }

        float[] products(int floats) {
            if (productArray.length < floats) productArray = new float[floats];
            return productArray;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The padded channel-last input of a chunk of images, off-heap: the layout pass then writes it with no staging copy
     * (a heap destination went through native scratch first: 2 MB of 32-channel 32×32 activations took 137 µs instead
     * of 96 µs), and the input transform reads it as it reads any native segment.
     */
    static final tessera.memory.Workspace.Slot INPUT = tessera.memory.Workspace.slot("conv.winograd.input");

    /** The channel-last output of a chunk of images, off-heap for the same reason (heap → NCHW: 157 µs, native: 115). */
    static final tessera.memory.Workspace.Slot OUTPUT = tessera.memory.Workspace.slot("conv.winograd.output");
}
