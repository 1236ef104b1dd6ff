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
import tessera.kernels.layout.F32Transpose;
import tessera.memory.Workspace;

/**
 * f32-conv-wgrad-nhwc-6x2v: the weight gradient of a dense convolution (groups = 1) as an implicit GEMM, with no
 * im2col matrix and no packing of one:
 * <pre>
 *   dW[k][c][r][s] = Σ_{n,p,q} dy[n][k][p][q] · xpad[n][p·sh + r·dh][q·sw + s·dw][c]
 * </pre>
 * x is copied channel-last and zero-padded ({@code xpad}, one copy per image, the taps' channels contiguous) and dy
 * pixel-major in blocks of NB output channels ({@code dyP[kb][pixel][NB]}, NB = 2 vectors, or 1 when K ≤ one vector,
 * zero-padded). The microkernel holds 6 taps × NB channels of dW in 12 (or 6) vector accumulators and, per output
 * pixel, loads NB channels of dyP and broadcasts the 6 taps' inputs straight from xpad — the same register tile as
 * {@code f32-gemm-6x2v}, but its broadcast operand is read in place, where the GEMM formulation had to pack the
 * R·S-fold expanded im2col matrix, which cost as much as the product with 32–64 output channels (figures at
 * {@link F32ConvIm2col#usesChannelLast}).
 *
 * <p>Taps are ordered (r, s, c) — channels fastest — and grouped in strips of 6; a task is one block of output
 * channels × a range of strips, and it sweeps the pixels in blocks of whole output rows (≈ 512 pixels) so that a
 * block's dyP and xpad rows stay in L2 while every strip of the task reads them (blocks of 128 pixels, which fit
 * L1, were 2–4% slower: the accumulators' round trips cost more). The strips' tap offsets are tabulated once per
 * call. Each (block, strip) accumulator lives in a workspace between pixel blocks; every dW element is reduced in
 * the same pixel order whatever the thread count. Images are processed in chunks whose buffers fit
 * {@link #chunkBudgetBytes}; xpad and dyP are per-thread Java arrays ({@code Buffers}).
 */
final class F32ConvWeightGradNhwc {
    private F32ConvWeightGradNhwc() {}

    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Taps per strip: the rows of the register tile. */
    static final int MR = 6;

    static final Workspace.Slot ACCUMULATORS = Workspace.slot("conv.wgrad-nhwc.acc");

    /**
     * Bytes of xpad + dyP per chunk of images (at least one image per chunk). Package-private and mutable so that
     * tests can force chunks of one image.
     */
    static volatile long chunkBudgetBytes = 2 * Gemm.l2CacheBytes();

    /** Output pixels per block (whole output rows, at least one). */
    private static final int BLOCK_PIXELS = 512;

    /** Padded rows of xpad: every input row any tap of any output row reads. */
    static int paddedH(ConvGeom g) { return Math.max(g.h() + g.pt(), (g.p() - 1) * g.sh() + (g.r() - 1) * g.dh() + 1); }

    /** Padded columns of xpad: every input column any tap of any output column reads. */
    static int paddedW(ConvGeom g) { return Math.max(g.w() + g.pl(), (g.q() - 1) * g.sw() + (g.s() - 1) * g.dw() + 1); }

    static int nb(ConvGeom g) { return g.k() <= VL ? VL : 2 * VL; }

    /** dw (overwritten, [K][C][R][S]) for x [N][C][H][W] and dy [N][K][P][Q]; groups must be 1. */
    static void backwardWeights(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dw, long dwo) {
        if (g.groups() != 1) throw new IllegalArgumentException("channel-last weight gradient needs groups = 1, got " + g.groups());
        int nb = nb(g), kbs = (g.k() + nb - 1) / nb, taps = g.c() * g.r() * g.s(), strips = (taps + MR - 1) / MR;
        int pq = g.p() * g.q();
        long xpadImage = (long) paddedH(g) * paddedW(g) * g.c(), dyImage = (long) kbs * pq * nb;
        int chunk = (int) Math.max(1, Math.min(g.n(), chunkBudgetBytes / (4 * (xpadImage + dyImage))));
        Workspace ws = Workspace.ofCurrentThread();
        Buffers buf = BUFFERS.get();
        buf.ensure(chunk * xpadImage, chunk * dyImage);
        MemorySegment acc = ws.floats(ACCUMULATORS, (long) kbs * strips * MR * nb);
        ConvEpilogue.zero(acc, 0, (long) kbs * strips * MR * nb);
        int[] offsets = buf.offsets(strips * MR);
        for (int t = 0; t < strips * MR; t++) offsets[t] = tapOffset(g, paddedW(g), Math.min(t, taps - 1));
        int threads = ComputePool.threads();
        int splits = Math.max(1, Math.min(strips, (2 * threads + kbs - 1) / kbs));
        if (threads == 1) splits = 1;
        Job job = JOB.get();
        job.set(g, x, xo, dy, dyo, buf, offsets, acc, nb, kbs, strips, splits, chunk);
        try {
            for (int n0 = 0; n0 < g.n(); n0 += chunk) {
                job.n0 = n0;
                job.images = Math.min(chunk, g.n() - n0);
                job.prepare = true;
                ComputePool.parallelFor(2 * job.images, job);
                job.prepare = false;
                ComputePool.parallelFor(kbs * splits, job);
            }
        } finally {
            job.clear();
        }
        scatter(g, acc, nb, kbs, strips, dw, dwo);
    }

    /** dw[k][c][r][s] = acc[kb][tap (r·S + s)·C + c][k − kb·NB]. */
    private static void scatter(ConvGeom g, MemorySegment acc, int nb, int kbs, int strips, MemorySegment dw, long dwo) {
        int c = g.c(), rs = g.r() * g.s(), taps = c * rs;
        for (int k = 0; k < g.k(); k++) {
            int kb = k / nb, j = k - kb * nb;
            long base = (long) kb * strips * MR * nb + j;
            long out = dwo + (long) k * taps;
            for (int t = 0; t < taps; t++) {
                int tap = t / c, ch = t - tap * c;
                dw.setAtIndex(F, out + (long) ch * rs + tap, acc.getAtIndex(F, base + (long) t * nb));
            }
        }
    }

    /**
     * The calling thread's xpad and dyP: Java arrays, which the microkernel reads fastest (C2 hoists their range
     * checks; with segments the compiled loop lost a third of its speed once a second layer shape had run), with
     * segment views for the copies that fill them. They only grow.
     */
    private static final class Buffers {
        float[] xpad = new float[0], dy = new float[0];
        MemorySegment xpadView = MemorySegment.ofArray(xpad), dyView = MemorySegment.ofArray(dy);

        int[] offsets = new int[0];

        /** The tap-offset table ({@link #tapOffset} of every strip row, clamped to the last tap). */
        int[] offsets(int n) {
            if (offsets.length < n) offsets = new int[n];
            return offsets;
        }

        void ensure(long xpadFloats, long dyFloats) {
            if (xpad.length < xpadFloats) {
                xpad = new float[arrayLength("xpad", xpadFloats)];
                xpadView = MemorySegment.ofArray(xpad);
            }
            if (dy.length < dyFloats) {
                dy = new float[arrayLength("dy", dyFloats)];
                dyView = MemorySegment.ofArray(dy);
            }
        }

        private static int arrayLength(String what, long floats) {
            if (floats > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("weight gradient: the channel-last " + what + " copy of one image needs "
                        + floats + " floats, more than a Java array holds");
            }
            return (int) floats;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /** The two phases of a chunk: prepare (task 2i: image i's xpad, 2i + 1: its dyP), then compute. */
    private static final class Job implements IntConsumer {
        ConvGeom g;
        MemorySegment x, dy, acc;
        Buffers buf;
        int[] offsets;
        long xo, dyo;
        int nb, kbs, strips, splits, chunk, n0, images;
        boolean prepare;

        void set(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo, Buffers buf, int[] offsets,
                 MemorySegment acc, int nb, int kbs, int strips, int splits, int chunk) {
            this.g = g; this.x = x; this.xo = xo; this.dy = dy; this.dyo = dyo; this.buf = buf; this.offsets = offsets;
            this.acc = acc; this.nb = nb; this.kbs = kbs; this.strips = strips; this.splits = splits; this.chunk = chunk;
        }

        void clear() { g = null; x = null; dy = null; buf = null; acc = null; offsets = null; }

        @Override
        public void accept(int t) {
            if (prepare) {
                int i = t >> 1;
                if ((t & 1) == 0) fillPadded(g, x, xo, n0 + i, buf.xpadView, i * (long) paddedH(g) * paddedW(g) * g.c());
                else pixelMajor(g, dy, dyo, n0 + i, nb, kbs, buf.dyView, (long) i * g.p() * g.q() * nb, images);
                return;
            }
            int kb = t / splits, split = t % splits;
            int per = (strips + splits - 1) / splits, s0 = split * per, s1 = Math.min(strips, s0 + per);
            if (s0 < s1) compute(g, buf.xpad, buf.dy, offsets, acc, nb, kb, strips, s0, s1, images);
        }
    }

    /** Image n of x, channel-last and zero-padded, at xpad[dst ..] ([paddedH][paddedW][C]). */
    static void fillPadded(ConvGeom g, MemorySegment x, long xo, int n, MemorySegment xpad, long dst) {
        int c = g.c(), h = g.h(), w = g.w(), pt = g.pt(), pl = g.pl(), hp = paddedH(g), wp = paddedW(g);
        long rowFloats = (long) wp * c;
        int in0 = Math.min(hp, Math.max(0, pt)), in1 = Math.max(in0, Math.min(hp, pt + h)); // rows that hold input rows
        int w0 = Math.max(0, -pl), w1 = Math.min(w, wp - pl);
        if (w0 >= w1) in1 = in0;
        ConvEpilogue.zero(xpad, dst, in0 * rowFloats);
        ConvEpilogue.zero(xpad, dst + in1 * rowFloats, (hp - in1) * rowFloats);
        if (in0 == in1) return;
        for (int row = in0; row < in1; row++) {
            long d = dst + row * rowFloats;
            ConvEpilogue.zero(xpad, d, (long) (w0 + pl) * c);
            ConvEpilogue.zero(xpad, d + (long) (w1 + pl) * c, (long) (wp - w1 - pl) * c);
        }
        F32PlaneRows.toChannelLast(x, xo + ((long) n * c * h + in0 - pt) * w + w0, (long) h * w, w, c, in1 - in0, w1 - w0,
                xpad, dst + in0 * rowFloats + (long) (w0 + pl) * c, rowFloats, c);
    }

    /** Image n of dy as dyP[kb][chunk pixel][NB] (image slot i = dst / (P·Q·NB) of the chunk), zero-padded channels. */
    static void pixelMajor(ConvGeom g, MemorySegment dy, long dyo, int n, int nb, int kbs, MemorySegment dyP, long dst,
                           int images) {
        int pq = g.p() * g.q(), k = g.k();
        long blockStride = (long) images * pq * nb;
        for (int kb = 0; kb < kbs; kb++) {
            int rows = Math.min(nb, k - kb * nb);
            long d = dst + kb * blockStride;
            if (rows < nb) ConvEpilogue.zero(dyP, d, (long) pq * nb);
            F32Transpose.transpose(dy, dyo + ((long) n * k + (long) kb * nb) * pq, pq, dyP, d, nb, rows, pq);
        }
    }

    /** Strips [s0, s1) of output-channel block kb over every pixel of the chunk's images, into acc. */
    static void compute(ConvGeom g, float[] xpad, float[] dyP, int[] offsets, MemorySegment acc, int nb, int kb, int strips,
                        int s0, int s1, int images) {
        int c = g.c(), hp = paddedH(g), wp = paddedW(g), p = g.p(), q = g.q();
        int rowsPerBlock = Math.max(1, Math.min(p, BLOCK_PIXELS / q));
        int xImage = hp * wp * c, rowStep = g.sh() * wp * c, pixStep = g.sw() * c;
        int dyBlock = kb * images * p * q * nb;
        for (int i = 0; i < images; i++)
            for (int p0 = 0; p0 < p; p0 += rowsPerBlock) {
                int rows = Math.min(rowsPerBlock, p - p0);
                int xBase = i * xImage + p0 * rowStep;
                int d = dyBlock + (i * p + p0) * q * nb;
                for (int st = s0; st < s1; st++) {
                    int t0 = st * MR;
                    int o0 = offsets[t0], o1 = offsets[t0 + 1], o2 = offsets[t0 + 2], o3 = offsets[t0 + 3],
                            o4 = offsets[t0 + 4], o5 = offsets[t0 + 5];
                    long a = ((long) kb * strips + st) * MR * nb;
                    boolean consecutive = o1 == o0 + 1 && o2 == o0 + 2 && o3 == o0 + 3 && o4 == o0 + 4 && o5 == o0 + 5;
                    if (consecutive && nb == 2 * VL) tile6x2Rows(xpad, xBase + o0, rowStep, pixStep, rows, q, dyP, d, acc, a);
                    else if (nb == 2 * VL) tile6x2(xpad, xBase, rowStep, pixStep, rows, q, o0, o1, o2, o3, o4, o5, dyP, d, acc, a, true);
                    else tile6x1(xpad, xBase, rowStep, pixStep, rows, q, o0, o1, o2, o3, o4, o5, dyP, d, acc, a, true);
                }
            }
    }

    /** Offset in xpad of tap t ((r·S + s)·C + c) from the tap-(0, 0) channel-0 element of a pixel. */
    private static int tapOffset(ConvGeom g, int wp, int t) {
        int c = g.c(), rs = t / c, ch = t - rs * c, r = rs / g.s(), s = rs - r * g.s();
        return (r * g.dh() * wp + s * g.dw()) * c + ch;
    }

    /**
     * acc[a .. a + 6·2·VL) += (or, without {@code accumulate}, =) Σ over {@code rows} output rows × q pixels of dyP[pixel][0, 2·VL) ⊗ xpad[pixel + o_i]:
     * 6 taps × 2 vectors of output channels; dyP pixels consecutive from float index d, xpad pixels pixStep apart
     * and rows rowStep apart from xBase.
     */
    static void tile6x2(float[] xp, int xBase, int rowStep, int pixStep, int rows, int q, int o0, int o1,
                        int o2, int o3, int o4, int o5, float[] dyP, int d, MemorySegment acc, long a, boolean accumulate) {
        long v = 4L * VL, ab = a * 4;
        FloatVector c00 = FloatVector.zero(SP), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        if (accumulate) {
            c00 = FloatVector.fromMemorySegment(SP, acc, ab, NO); c01 = FloatVector.fromMemorySegment(SP, acc, ab + v, NO);
            c10 = FloatVector.fromMemorySegment(SP, acc, ab + 2 * v, NO); c11 = FloatVector.fromMemorySegment(SP, acc, ab + 3 * v, NO);
            c20 = FloatVector.fromMemorySegment(SP, acc, ab + 4 * v, NO); c21 = FloatVector.fromMemorySegment(SP, acc, ab + 5 * v, NO);
            c30 = FloatVector.fromMemorySegment(SP, acc, ab + 6 * v, NO); c31 = FloatVector.fromMemorySegment(SP, acc, ab + 7 * v, NO);
            c40 = FloatVector.fromMemorySegment(SP, acc, ab + 8 * v, NO); c41 = FloatVector.fromMemorySegment(SP, acc, ab + 9 * v, NO);
            c50 = FloatVector.fromMemorySegment(SP, acc, ab + 10 * v, NO); c51 = FloatVector.fromMemorySegment(SP, acc, ab + 11 * v, NO);
        }
        int di = d, b = xBase, rowJump = rowStep - (q - 1) * pixStep;
        // one flat loop over the block's pixels (a nested row loop recompiled after uncommon traps when the row count
        // changed between layers, and ran interpreted, boxing its vectors, in between)
        for (int i = 0, j = 0, count = rows * q; i < count; i++, di += 2 * VL) {
            FloatVector w0 = FloatVector.fromArray(SP, dyP, di);
            FloatVector w1 = FloatVector.fromArray(SP, dyP, di + VL);
            FloatVector x = FloatVector.broadcast(SP, xp[b + o0]);
            c00 = w0.fma(x, c00); c01 = w1.fma(x, c01);
            x = FloatVector.broadcast(SP, xp[b + o1]);
            c10 = w0.fma(x, c10); c11 = w1.fma(x, c11);
            x = FloatVector.broadcast(SP, xp[b + o2]);
            c20 = w0.fma(x, c20); c21 = w1.fma(x, c21);
            x = FloatVector.broadcast(SP, xp[b + o3]);
            c30 = w0.fma(x, c30); c31 = w1.fma(x, c31);
            x = FloatVector.broadcast(SP, xp[b + o4]);
            c40 = w0.fma(x, c40); c41 = w1.fma(x, c41);
            x = FloatVector.broadcast(SP, xp[b + o5]);
            c50 = w0.fma(x, c50); c51 = w1.fma(x, c51);
            if (++j == q) {
                j = 0;
                b += rowJump;
            } else {
                b += pixStep;
            }
        }
        c00.intoMemorySegment(acc, ab, NO); c01.intoMemorySegment(acc, ab + v, NO);
        c10.intoMemorySegment(acc, ab + 2 * v, NO); c11.intoMemorySegment(acc, ab + 3 * v, NO);
        c20.intoMemorySegment(acc, ab + 4 * v, NO); c21.intoMemorySegment(acc, ab + 5 * v, NO);
        c30.intoMemorySegment(acc, ab + 6 * v, NO); c31.intoMemorySegment(acc, ab + 7 * v, NO);
        c40.intoMemorySegment(acc, ab + 8 * v, NO); c41.intoMemorySegment(acc, ab + 9 * v, NO);
        c50.intoMemorySegment(acc, ab + 10 * v, NO); c51.intoMemorySegment(acc, ab + 11 * v, NO);
    }

    /** As {@link #tile6x2} with one vector of output channels (K ≤ VL). */
    static void tile6x1(float[] xp, int xBase, int rowStep, int pixStep, int rows, int q, int o0, int o1,
                        int o2, int o3, int o4, int o5, float[] dyP, int d, MemorySegment acc, long a, boolean accumulate) {
        long v = 4L * VL, ab = a * 4;
        FloatVector c0 = FloatVector.zero(SP), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        if (accumulate) {
            c0 = FloatVector.fromMemorySegment(SP, acc, ab, NO); c1 = FloatVector.fromMemorySegment(SP, acc, ab + v, NO);
            c2 = FloatVector.fromMemorySegment(SP, acc, ab + 2 * v, NO); c3 = FloatVector.fromMemorySegment(SP, acc, ab + 3 * v, NO);
            c4 = FloatVector.fromMemorySegment(SP, acc, ab + 4 * v, NO); c5 = FloatVector.fromMemorySegment(SP, acc, ab + 5 * v, NO);
        }
        int di = d, b = xBase, rowJump = rowStep - (q - 1) * pixStep;
        for (int i = 0, j = 0, count = rows * q; i < count; i++, di += VL) {
            FloatVector w0 = FloatVector.fromArray(SP, dyP, di);
            c0 = w0.fma(FloatVector.broadcast(SP, xp[b + o0]), c0);
            c1 = w0.fma(FloatVector.broadcast(SP, xp[b + o1]), c1);
            c2 = w0.fma(FloatVector.broadcast(SP, xp[b + o2]), c2);
            c3 = w0.fma(FloatVector.broadcast(SP, xp[b + o3]), c3);
            c4 = w0.fma(FloatVector.broadcast(SP, xp[b + o4]), c4);
            c5 = w0.fma(FloatVector.broadcast(SP, xp[b + o5]), c5);
            if (++j == q) {
                j = 0;
                b += rowJump;
            } else {
                b += pixStep;
            }
        }
        c0.intoMemorySegment(acc, ab, NO); c1.intoMemorySegment(acc, ab + v, NO); c2.intoMemorySegment(acc, ab + 2 * v, NO);
        c3.intoMemorySegment(acc, ab + 3 * v, NO); c4.intoMemorySegment(acc, ab + 4 * v, NO); c5.intoMemorySegment(acc, ab + 5 * v, NO);
    }


    /**
     * As {@link #tile6x2} for 6 consecutive taps ({@code xp[b], …, xp[b + 5]}) over one run of {@code count} pixels,
     * {@code pixStep} apart from xBase: an affine loop whose bounds checks the JIT hoists (the general tile, with
     * six independent offsets and a row step, checks every broadcast: 32→32 product over 64 Winograd tiles, L1
     * resident, 88 → 105 GFLOP/s). Same products in the same order, so the same bits as the general tile. A method of
     * its own rather than {@link #tile6x2Rows} with one row: each loop shape keeps its own JIT profile (the general
     * tile's notes: a row loop whose trip counts changed between layers was recompiled after uncommon traps).
     */
    static void tile6x2Run(float[] xp, int xBase, int pixStep, int count, float[] dyP, int d, MemorySegment acc, long a,
                           boolean accumulate) {
        long v = 4L * VL, ab = a * 4;
        FloatVector c00 = FloatVector.zero(SP), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        if (accumulate) {
            c00 = FloatVector.fromMemorySegment(SP, acc, ab, NO); c01 = FloatVector.fromMemorySegment(SP, acc, ab + v, NO);
            c10 = FloatVector.fromMemorySegment(SP, acc, ab + 2 * v, NO); c11 = FloatVector.fromMemorySegment(SP, acc, ab + 3 * v, NO);
            c20 = FloatVector.fromMemorySegment(SP, acc, ab + 4 * v, NO); c21 = FloatVector.fromMemorySegment(SP, acc, ab + 5 * v, NO);
            c30 = FloatVector.fromMemorySegment(SP, acc, ab + 6 * v, NO); c31 = FloatVector.fromMemorySegment(SP, acc, ab + 7 * v, NO);
            c40 = FloatVector.fromMemorySegment(SP, acc, ab + 8 * v, NO); c41 = FloatVector.fromMemorySegment(SP, acc, ab + 9 * v, NO);
            c50 = FloatVector.fromMemorySegment(SP, acc, ab + 10 * v, NO); c51 = FloatVector.fromMemorySegment(SP, acc, ab + 11 * v, NO);
        }
        for (int i = 0, di = d, b = xBase; i < count; i++, di += 2 * VL, b += pixStep) {
            FloatVector w0 = FloatVector.fromArray(SP, dyP, di);
            FloatVector w1 = FloatVector.fromArray(SP, dyP, di + VL);
            FloatVector x = FloatVector.broadcast(SP, xp[b]);
            c00 = w0.fma(x, c00); c01 = w1.fma(x, c01);
            x = FloatVector.broadcast(SP, xp[b + 1]);
            c10 = w0.fma(x, c10); c11 = w1.fma(x, c11);
            x = FloatVector.broadcast(SP, xp[b + 2]);
            c20 = w0.fma(x, c20); c21 = w1.fma(x, c21);
            x = FloatVector.broadcast(SP, xp[b + 3]);
            c30 = w0.fma(x, c30); c31 = w1.fma(x, c31);
            x = FloatVector.broadcast(SP, xp[b + 4]);
            c40 = w0.fma(x, c40); c41 = w1.fma(x, c41);
            x = FloatVector.broadcast(SP, xp[b + 5]);
            c50 = w0.fma(x, c50); c51 = w1.fma(x, c51);
        }
        c00.intoMemorySegment(acc, ab, NO); c01.intoMemorySegment(acc, ab + v, NO);
        c10.intoMemorySegment(acc, ab + 2 * v, NO); c11.intoMemorySegment(acc, ab + 3 * v, NO);
        c20.intoMemorySegment(acc, ab + 4 * v, NO); c21.intoMemorySegment(acc, ab + 5 * v, NO);
        c30.intoMemorySegment(acc, ab + 6 * v, NO); c31.intoMemorySegment(acc, ab + 7 * v, NO);
        c40.intoMemorySegment(acc, ab + 8 * v, NO); c41.intoMemorySegment(acc, ab + 9 * v, NO);
        c50.intoMemorySegment(acc, ab + 10 * v, NO); c51.intoMemorySegment(acc, ab + 11 * v, NO);
    }

    /** As {@link #tile6x2Run} with one vector of output channels (K ≤ VL). */
    static void tile6x1Run(float[] xp, int xBase, int pixStep, int count, float[] dyP, int d, MemorySegment acc, long a,
                           boolean accumulate) {
        long v = 4L * VL, ab = a * 4;
        FloatVector c0 = FloatVector.zero(SP), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        if (accumulate) {
            c0 = FloatVector.fromMemorySegment(SP, acc, ab, NO); c1 = FloatVector.fromMemorySegment(SP, acc, ab + v, NO);
            c2 = FloatVector.fromMemorySegment(SP, acc, ab + 2 * v, NO); c3 = FloatVector.fromMemorySegment(SP, acc, ab + 3 * v, NO);
            c4 = FloatVector.fromMemorySegment(SP, acc, ab + 4 * v, NO); c5 = FloatVector.fromMemorySegment(SP, acc, ab + 5 * v, NO);
        }
        for (int i = 0, di = d, b = xBase; i < count; i++, di += VL, b += pixStep) {
            FloatVector w0 = FloatVector.fromArray(SP, dyP, di);
            c0 = w0.fma(FloatVector.broadcast(SP, xp[b]), c0);
            c1 = w0.fma(FloatVector.broadcast(SP, xp[b + 1]), c1);
            c2 = w0.fma(FloatVector.broadcast(SP, xp[b + 2]), c2);
            c3 = w0.fma(FloatVector.broadcast(SP, xp[b + 3]), c3);
            c4 = w0.fma(FloatVector.broadcast(SP, xp[b + 4]), c4);
            c5 = w0.fma(FloatVector.broadcast(SP, xp[b + 5]), c5);
        }
        c0.intoMemorySegment(acc, ab, NO); c1.intoMemorySegment(acc, ab + v, NO); c2.intoMemorySegment(acc, ab + 2 * v, NO);
        c3.intoMemorySegment(acc, ab + 3 * v, NO); c4.intoMemorySegment(acc, ab + 4 * v, NO); c5.intoMemorySegment(acc, ab + 5 * v, NO);
    }

    /**
     * As {@link #tile6x2} (accumulating) for 6 consecutive taps ({@code xp[b], …, xp[b + 5]}, b from xBase): a row
     * loop around an affine pixel loop, so the JIT checks each row's broadcasts once instead of every one (3×3
     * dilation-1 layers with an even channel count: no strip of 6 taps crosses a kernel row). Paired training steps,
     * small ResNet b16 (its 3×3/2 layer): 35.31 → 35.13 ms (1 thread), 25.41 → 25.15 ms (2). Same products in the
     * same order as the general tile.
     */
    static void tile6x2Rows(float[] xp, int xBase, int rowStep, int pixStep, int rows, int q, float[] dyP, int d,
                            MemorySegment acc, long a) {
        long v = 4L * VL, ab = a * 4;
        FloatVector c00 = FloatVector.fromMemorySegment(SP, acc, ab, NO), c01 = FloatVector.fromMemorySegment(SP, acc, ab + v, NO);
        FloatVector c10 = FloatVector.fromMemorySegment(SP, acc, ab + 2 * v, NO), c11 = FloatVector.fromMemorySegment(SP, acc, ab + 3 * v, NO);
        FloatVector c20 = FloatVector.fromMemorySegment(SP, acc, ab + 4 * v, NO), c21 = FloatVector.fromMemorySegment(SP, acc, ab + 5 * v, NO);
        FloatVector c30 = FloatVector.fromMemorySegment(SP, acc, ab + 6 * v, NO), c31 = FloatVector.fromMemorySegment(SP, acc, ab + 7 * v, NO);
        FloatVector c40 = FloatVector.fromMemorySegment(SP, acc, ab + 8 * v, NO), c41 = FloatVector.fromMemorySegment(SP, acc, ab + 9 * v, NO);
        FloatVector c50 = FloatVector.fromMemorySegment(SP, acc, ab + 10 * v, NO), c51 = FloatVector.fromMemorySegment(SP, acc, ab + 11 * v, NO);
        int di = d;
        for (int r = 0; r < rows; r++) {
            for (int i = 0, b = xBase + r * rowStep; i < q; i++, di += 2 * VL, b += pixStep) {
                FloatVector w0 = FloatVector.fromArray(SP, dyP, di);
                FloatVector w1 = FloatVector.fromArray(SP, dyP, di + VL);
                FloatVector x = FloatVector.broadcast(SP, xp[b]);
                c00 = w0.fma(x, c00); c01 = w1.fma(x, c01);
                x = FloatVector.broadcast(SP, xp[b + 1]);
                c10 = w0.fma(x, c10); c11 = w1.fma(x, c11);
                x = FloatVector.broadcast(SP, xp[b + 2]);
                c20 = w0.fma(x, c20); c21 = w1.fma(x, c21);
                x = FloatVector.broadcast(SP, xp[b + 3]);
                c30 = w0.fma(x, c30); c31 = w1.fma(x, c31);
                x = FloatVector.broadcast(SP, xp[b + 4]);
                c40 = w0.fma(x, c40); c41 = w1.fma(x, c41);
                x = FloatVector.broadcast(SP, xp[b + 5]);
                c50 = w0.fma(x, c50); c51 = w1.fma(x, c51);
            }
        }
        c00.intoMemorySegment(acc, ab, NO); c01.intoMemorySegment(acc, ab + v, NO);
        c10.intoMemorySegment(acc, ab + 2 * v, NO); c11.intoMemorySegment(acc, ab + 3 * v, NO);
        c20.intoMemorySegment(acc, ab + 4 * v, NO); c21.intoMemorySegment(acc, ab + 5 * v, NO);
        c30.intoMemorySegment(acc, ab + 6 * v, NO); c31.intoMemorySegment(acc, ab + 7 * v, NO);
        c40.intoMemorySegment(acc, ab + 8 * v, NO); c41.intoMemorySegment(acc, ab + 9 * v, NO);
        c50.intoMemorySegment(acc, ab + 10 * v, NO); c51.intoMemorySegment(acc, ab + 11 * v, NO);
    }
}
