package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;

/**
 * f32-conv-wgrad-rows-{4,2}x6v: the weight gradient of a dense convolution with few input channels (C below one
 * vector) and column stride 1 or 2, vectorized along the output row instead of over channels:
 * <pre>
 *   dW[k][c][r][s] = Σ_{n,p} Σ_q dy[n][k][p][q] · xpad[n][c][p·sh + r·dh][q + s·dw]
 * </pre>
 * Each accumulator is one vector of partial sums over output columns q for one (output channel, tap); the register
 * tile is 4 output channels × 6 taps with 32 vector registers (2 × 6 with 16). dy rows are read in place from NCHW;
 * x is copied once per chunk of images into a zero-padded Java array (pl zeros on the left, whole vectors on the
 * right), each row split into its column phases when the stride is 2, so every tap is a plain vector load. Taps are (c, r, s) in dW's order, in strips of 6 (the last repeats
 * the last tap). A task is a group of output-channel blocks whose dy fits 256 KiB, strip by strip; each (k, tap) is summed over images, rows and vectors in
 * that order and its lanes are added left to right at the end, so the bits depend neither on the thread count nor
 * on the chunking. This replaces, for such layers, the channel-last implicit GEMM ({@link F32ConvWeightGradNhwc}),
 * whose pixel-major copy of dy cost more than the products when the input has 3 channels (batch 16, cold inputs,
 * 1 thread: 3→32 3×3 at 32² 1.04 → 0.53 ms; ResNet-18's 3→64 7×7/2 at 224² 55 → 38 ms).
 */
final class F32ConvWeightGradRows {
    private F32ConvWeightGradRows() {}

    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Taps per strip: the columns of the register tile. */
    static final int TR = 6;
    /**
     * Output channels per tile: 4 with 32 vector registers (24 accumulators), 2 with 16. Package-private and mutable
     * so that tests run both tiles on any machine.
     */
    static volatile int kr = Gemm.vectorRegisters() >= 32 ? 4 : 2;

    /**
     * Bytes of padded x per chunk of images (at least one image). Package-private and mutable so that tests can force
     * chunks of one image.
     */
    static volatile long chunkBudgetBytes = Gemm.l2CacheBytes() / 2;

    /** Most accumulator floats (K × taps × VL): 4 MiB. */
    private static final long MAX_ACCUMULATORS = 1L << 20;

    /**
     * Dense, wider than 1×1, fewer input channels than one vector, column stride 1 or 2, output rows of whole vectors,
     * accumulators within {@link #MAX_ACCUMULATORS}. (With 32 input channels the channel-last implicit GEMM is as fast
     * or faster: 32→64 3×3/2 at 32², batch 16, cold inputs, 1 / 2 threads: 3.2 / 1.9 ms against 3.4 / 2.5 ms here.)
     */
    static boolean applies(ConvGeom g) {
        long taps = (long) g.c() * g.r() * g.s();
        return g.groups() == 1 && g.r() * g.s() > 1 && g.c() < VL && (g.sw() == 1 || g.sw() == 2) && g.q() % VL == 0
                && ((long) g.k() + 3) * (taps + TR) * VL <= MAX_ACCUMULATORS;
    }

    /** Padded rows: every input row a tap of an output row reads. */
    static int paddedH(ConvGeom g) { return (g.p() - 1) * g.sh() + (g.r() - 1) * g.dh() + 1; }

    /**
     * Columns per phase: padded column j (x column j − pl) is held in phase j mod sw at j / sw, so that output
     * column q of tap s reads phase (s·dw) mod sw at q + (s·dw) / sw — consecutive q, consecutive floats.
     */
    static int phaseW(ConvGeom g) { return g.q() + (g.s() - 1) * g.dw() / g.sw(); }

    /** Floats per padded row: its sw phases. */
    static int paddedW(ConvGeom g) { return g.sw() * phaseW(g); }

    /** Bytes of dy a task's output channels span per chunk: they are read again for every strip of taps. */
    private static final long TASK_DY_BYTES = 256 * 1024;

    /** dw (overwritten, [K][C][R][S]) for x [N][C][H][W] and dy [N][K][P][Q]. */
    static void backwardWeights(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dw, long dwo) {
        if (!applies(g)) throw new IllegalArgumentException("row-vectorized weight gradient does not apply to " + g);
        int taps = g.c() * g.r() * g.s(), strips = (taps + TR - 1) / TR, tapsPad = strips * TR;
        long xImage = (long) g.c() * paddedH(g) * paddedW(g);
        int chunk = (int) Math.max(1, Math.min(g.n(), chunkBudgetBytes / (4 * xImage)));
        Buffers buf = BUFFERS.get();
        int tile = kr, kBlocks = (g.k() + tile - 1) / tile;
        // accumulators: the last block's spare channels past K too; line: one x row and splitPhases' slack
        buf.ensure(chunk * xImage, (long) kBlocks * tile * tapsPad * VL, tapsPad, g.w() + 2 * VL);
        for (int t = 0; t < tapsPad; t++) buf.offsets[t] = tapOffset(g, Math.min(t, taps - 1));
        // a task takes a group of output-channel blocks, strip by strip, so that their dy stays in cache
        long dyPerBlock = 4L * tile * chunk * g.p() * g.q();
        int perTask = (int) Math.max(1, Math.min(kBlocks, TASK_DY_BYTES / dyPerBlock));
        Job job = JOB.get();
        job.g = g; job.dy = dy; job.dyo = dyo; job.buf = buf; job.strips = strips; job.tapsPad = tapsPad; job.tile = tile;
        job.kBlocks = kBlocks; job.perTask = perTask;
        try {
            for (int n0 = 0; n0 < g.n(); n0 += chunk) {
                int images = Math.min(chunk, g.n() - n0);
                pad(g, x, xo, n0, images, buf.xpad, buf.line);
                job.n0 = n0; job.images = images; job.first = n0 == 0;
                ComputePool.parallelFor((kBlocks + perTask - 1) / perTask, job);
            }
        } finally {
            job.g = null; job.dy = null; job.buf = null;
        }
        for (int k = 0; k < g.k(); k++)
            for (int t = 0; t < taps; t++) {
                float s = 0f; // lanes left to right
                int a = (k * tapsPad + t) * VL;
                for (int l = 0; l < VL; l++) s += buf.acc[a + l];
                dw.setAtIndex(ValueLayout.JAVA_FLOAT, dwo + (long) k * taps + t, s);
            }
    }

    /** Offset in a padded image of tap t = (c·R + r)·S + s, from the padded element of output pixel (0, 0). */
    private static int tapOffset(ConvGeom g, int t) {
        int rs = g.r() * g.s(), c = t / rs, r = (t % rs) / g.s(), s = t % g.s(), col = s * g.dw();
        return (c * paddedH(g) + r * g.dh()) * paddedW(g) + (col % g.sw()) * phaseW(g) + col / g.sw();
    }

    /**
     * xpad[i][c][row][phase][j'] = x[n0 + i][c][row − pt][j'·sw + phase − pl], zero outside x: each x row is copied to
     * {@code line} and split into its column phases there ({@link Im2colPanelSource#splitPhases}).
     */
    private static void pad(ConvGeom g, MemorySegment x, long xo, int n0, int images, float[] xpad, float[] line) {
        int hp = paddedH(g), wp = paddedW(g), h = g.h(), w = g.w();
        for (int i = 0; i < images; i++)
            for (int c = 0; c < g.c(); c++)
                for (int row = 0; row < hp; row++) {
                    int d = ((i * g.c() + c) * hp + row) * wp, ih = row - g.pt();
                    if (ih < 0 || ih >= h) {
                        java.util.Arrays.fill(xpad, d, d + wp, 0f);
                        continue;
                    }
                    MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, 4 * (xo + (((long) (n0 + i) * g.c() + c) * h + ih) * w), line, 0, w);
                    Im2colPanelSource.splitPhases(line, 1, w, g.sw(), g.pl(), phaseW(g), xpad, d);
                }
    }

    /**
     * Task t: output-channel blocks [t·perTask, (t + 1)·perTask) of {@link #kr} channels, strip by strip of taps, for
     * the images of the current chunk.
     */
    private static final class Job implements IntConsumer {
        ConvGeom g;
        MemorySegment dy;
        long dyo;
        Buffers buf;
        int n0, images, strips, tapsPad, tile, kBlocks, perTask;
        boolean first;

        @Override
        public void accept(int t) {
            int kb1 = Math.min(kBlocks, (t + 1) * perTask);
            for (int st = 0; st < strips; st++)
                for (int kb = t * perTask; kb < kb1; kb++) strip(kb, st);
        }

        /** Output-channel block kb × strip st of taps. */
        private void strip(int kb, int st) {
            int k0 = kb * tile, hp = paddedH(g), wp = paddedW(g), pq = g.p() * g.q();
            int xImage = g.c() * hp * wp, rowStep = g.sh() * wp, count = images * g.p() * (g.q() / VL);
            long dyImage = 4L * g.k() * pq, dyPlane = 4L * pq;
            long d0 = 4 * (dyo + ((long) n0 * g.k() + k0) * pq);
            // channels past K repeat the last one (their sums are not read)
            long p1 = dyPlane * (Math.min(k0 + 1, g.k() - 1) - k0), p2 = dyPlane * (Math.min(k0 + 2, g.k() - 1) - k0),
                    p3 = dyPlane * (Math.min(k0 + 3, g.k() - 1) - k0);
            int[] o = buf.offsets;
            int t0 = st * TR, a = (k0 * tapsPad + t0) * VL;
            if (tile == 4) {
                tile4x6(buf.xpad, xImage, rowStep, g.q(), g.p(), count, o[t0], o[t0 + 1], o[t0 + 2], o[t0 + 3], o[t0 + 4],
                        o[t0 + 5], dy, d0, dyImage, p1, p2, p3, buf.acc, a, tapsPad * VL, !first);
            } else {
                tile2x6(buf.xpad, xImage, rowStep, g.q(), g.p(), count, o[t0], o[t0 + 1], o[t0 + 2], o[t0 + 3], o[t0 + 4],
                        o[t0 + 5], dy, d0, dyImage, p1, buf.acc, a, tapsPad * VL, !first);
            }
        }
    }

    /**
     * acc[a + j·kStride + i·VL, +VL) (+)= Σ over {@code count} vectors of output columns (images × rowsPerImage rows ×
     * q / VL vectors, in one flat loop) of dy channel j ⊗ xpad at tap offset o_i: 4 channels × 6 taps. dy vectors are
     * consecutive within a row and rows are consecutive, images dyImage bytes apart (channels 1–3 at p1–p3 bytes from
     * channel 0); xpad rows rowStep floats apart, images xImage floats apart.
     */
    static void tile4x6(float[] xp, int xImage, int rowStep, int q, int rowsPerImage, int count, int o0, int o1, int o2, int o3, int o4,
                        int o5, MemorySegment dy, long d0, long dyImage, long p1, long p2, long p3, float[] acc, int a,
                        int kStride, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SP), c01 = c00, c02 = c00, c03 = c00, c04 = c00, c05 = c00,
                c10 = c00, c11 = c00, c12 = c00, c13 = c00, c14 = c00, c15 = c00,
                c20 = c00, c21 = c00, c22 = c00, c23 = c00, c24 = c00, c25 = c00,
                c30 = c00, c31 = c00, c32 = c00, c33 = c00, c34 = c00, c35 = c00;
        if (accumulate) {
            int b1 = a + kStride, b2 = a + 2 * kStride, b3 = a + 3 * kStride;
            c00 = ld(acc, a); c01 = ld(acc, a + VL); c02 = ld(acc, a + 2 * VL); c03 = ld(acc, a + 3 * VL); c04 = ld(acc, a + 4 * VL); c05 = ld(acc, a + 5 * VL);
            c10 = ld(acc, b1); c11 = ld(acc, b1 + VL); c12 = ld(acc, b1 + 2 * VL); c13 = ld(acc, b1 + 3 * VL); c14 = ld(acc, b1 + 4 * VL); c15 = ld(acc, b1 + 5 * VL);
            c20 = ld(acc, b2); c21 = ld(acc, b2 + VL); c22 = ld(acc, b2 + 2 * VL); c23 = ld(acc, b2 + 3 * VL); c24 = ld(acc, b2 + 4 * VL); c25 = ld(acc, b2 + 5 * VL);
            c30 = ld(acc, b3); c31 = ld(acc, b3 + VL); c32 = ld(acc, b3 + 2 * VL); c33 = ld(acc, b3 + 3 * VL); c34 = ld(acc, b3 + 4 * VL); c35 = ld(acc, b3 + 5 * VL);
        }
        int qv = q / VL, v = 0, row = 0, xb = 0, xRow = 0, xImg = 0;
        long d = d0, image = d0;
        // flat loop: xb walks a row's vectors, then the next output row (rowStep), then the next image
        for (int i = 0; i < count; i++) {
            FloatVector y0 = FloatVector.fromMemorySegment(SP, dy, d, NO), y1 = FloatVector.fromMemorySegment(SP, dy, d + p1, NO),
                    y2 = FloatVector.fromMemorySegment(SP, dy, d + p2, NO), y3 = FloatVector.fromMemorySegment(SP, dy, d + p3, NO);
            FloatVector x = FloatVector.fromArray(SP, xp, xb + o0);
            c00 = y0.fma(x, c00); c10 = y1.fma(x, c10); c20 = y2.fma(x, c20); c30 = y3.fma(x, c30);
            x = FloatVector.fromArray(SP, xp, xb + o1);
            c01 = y0.fma(x, c01); c11 = y1.fma(x, c11); c21 = y2.fma(x, c21); c31 = y3.fma(x, c31);
            x = FloatVector.fromArray(SP, xp, xb + o2);
            c02 = y0.fma(x, c02); c12 = y1.fma(x, c12); c22 = y2.fma(x, c22); c32 = y3.fma(x, c32);
            x = FloatVector.fromArray(SP, xp, xb + o3);
            c03 = y0.fma(x, c03); c13 = y1.fma(x, c13); c23 = y2.fma(x, c23); c33 = y3.fma(x, c33);
            x = FloatVector.fromArray(SP, xp, xb + o4);
            c04 = y0.fma(x, c04); c14 = y1.fma(x, c14); c24 = y2.fma(x, c24); c34 = y3.fma(x, c34);
            x = FloatVector.fromArray(SP, xp, xb + o5);
            c05 = y0.fma(x, c05); c15 = y1.fma(x, c15); c25 = y2.fma(x, c25); c35 = y3.fma(x, c35);
            d += 4L * VL;
            xb += VL;
            if (++v == qv) { // next output row
                v = 0;
                xRow += rowStep;
                if (++row == rowsPerImage) { // next image
                    row = 0;
                    xRow = 0;
                    xImg += xImage;
                    image += dyImage;
                    d = image;
                }
                xb = xImg + xRow;
            }
        }
        int b1 = a + kStride, b2 = a + 2 * kStride, b3 = a + 3 * kStride;
        c00.intoArray(acc, a); c01.intoArray(acc, a + VL); c02.intoArray(acc, a + 2 * VL); c03.intoArray(acc, a + 3 * VL); c04.intoArray(acc, a + 4 * VL); c05.intoArray(acc, a + 5 * VL);
        c10.intoArray(acc, b1); c11.intoArray(acc, b1 + VL); c12.intoArray(acc, b1 + 2 * VL); c13.intoArray(acc, b1 + 3 * VL); c14.intoArray(acc, b1 + 4 * VL); c15.intoArray(acc, b1 + 5 * VL);
        c20.intoArray(acc, b2); c21.intoArray(acc, b2 + VL); c22.intoArray(acc, b2 + 2 * VL); c23.intoArray(acc, b2 + 3 * VL); c24.intoArray(acc, b2 + 4 * VL); c25.intoArray(acc, b2 + 5 * VL);
        c30.intoArray(acc, b3); c31.intoArray(acc, b3 + VL); c32.intoArray(acc, b3 + 2 * VL); c33.intoArray(acc, b3 + 3 * VL); c34.intoArray(acc, b3 + 4 * VL); c35.intoArray(acc, b3 + 5 * VL);
    }

    /** As {@link #tile4x6} with 2 output channels (16 vector registers). */
    static void tile2x6(float[] xp, int xImage, int rowStep, int q, int rowsPerImage, int count, int o0, int o1, int o2, int o3, int o4,
                        int o5, MemorySegment dy, long d0, long dyImage, long p1, float[] acc, int a, int kStride,
                        boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SP), c01 = c00, c02 = c00, c03 = c00, c04 = c00, c05 = c00,
                c10 = c00, c11 = c00, c12 = c00, c13 = c00, c14 = c00, c15 = c00;
        int b1 = a + kStride;
        if (accumulate) {
            c00 = ld(acc, a); c01 = ld(acc, a + VL); c02 = ld(acc, a + 2 * VL); c03 = ld(acc, a + 3 * VL); c04 = ld(acc, a + 4 * VL); c05 = ld(acc, a + 5 * VL);
            c10 = ld(acc, b1); c11 = ld(acc, b1 + VL); c12 = ld(acc, b1 + 2 * VL); c13 = ld(acc, b1 + 3 * VL); c14 = ld(acc, b1 + 4 * VL); c15 = ld(acc, b1 + 5 * VL);
        }
        int qv = q / VL, v = 0, row = 0, xb = 0, xRow = 0, xImg = 0;
        long d = d0, image = d0;
        for (int i = 0; i < count; i++) {
            FloatVector y0 = FloatVector.fromMemorySegment(SP, dy, d, NO), y1 = FloatVector.fromMemorySegment(SP, dy, d + p1, NO);
            FloatVector x = FloatVector.fromArray(SP, xp, xb + o0);
            c00 = y0.fma(x, c00); c10 = y1.fma(x, c10);
            x = FloatVector.fromArray(SP, xp, xb + o1);
            c01 = y0.fma(x, c01); c11 = y1.fma(x, c11);
            x = FloatVector.fromArray(SP, xp, xb + o2);
            c02 = y0.fma(x, c02); c12 = y1.fma(x, c12);
            x = FloatVector.fromArray(SP, xp, xb + o3);
            c03 = y0.fma(x, c03); c13 = y1.fma(x, c13);
            x = FloatVector.fromArray(SP, xp, xb + o4);
            c04 = y0.fma(x, c04); c14 = y1.fma(x, c14);
            x = FloatVector.fromArray(SP, xp, xb + o5);
            c05 = y0.fma(x, c05); c15 = y1.fma(x, c15);
            d += 4L * VL;
            xb += VL;
            if (++v == qv) {
                v = 0;
                xRow += rowStep;
                if (++row == rowsPerImage) {
                    row = 0;
                    xRow = 0;
                    xImg += xImage;
                    image += dyImage;
                    d = image;
                }
                xb = xImg + xRow;
            }
        }
        c00.intoArray(acc, a); c01.intoArray(acc, a + VL); c02.intoArray(acc, a + 2 * VL); c03.intoArray(acc, a + 3 * VL); c04.intoArray(acc, a + 4 * VL); c05.intoArray(acc, a + 5 * VL);
        c10.intoArray(acc, b1); c11.intoArray(acc, b1 + VL); c12.intoArray(acc, b1 + 2 * VL); c13.intoArray(acc, b1 + 3 * VL); c14.intoArray(acc, b1 + 4 * VL); c15.intoArray(acc, b1 + 5 * VL);
    }

    private static FloatVector ld(float[] a, int i) { return FloatVector.fromArray(SP, a, i); }

    /** The calling thread's padded x, accumulators and tap offsets (Java arrays: the kernel reads them fastest). */
    private static final class Buffers {
        float[] xpad = new float[0], acc = new float[0], line = new float[0];
        int[] offsets = new int[0];

        void ensure(long xFloats, long accFloats, int taps, int lineFloats) {
            if (xpad.length < xFloats) xpad = new float[Math.toIntExact(xFloats)];
            if (acc.length < accFloats) acc = new float[Math.toIntExact(accFloats)];
            if (offsets.length < taps) offsets = new int[taps];
            if (line.length < lineFloats) line = new float[lineFloats];
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);
}
