package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.memory.Workspace;

/**
 * Direct float32 convolution, vectorized over output channels (XNNPACK-style name: f32-conv-direct-6xNB).
 *
 * <p>Weights are packed channel-blocked, {@code [group][kBlock][c][r][s][NB]} with NB = 2·VL output channels
 * (VL = float lanes; NB = VL when a group has ≤ VL output channels, e.g. depthwise), zero-padded. Each image is copied
 * once into a zero-padded plane buffer (optionally zero-upsampled, which turns a strided transposed convolution into
 * a stride-1 one), so the microkernel needs no bounds checks. The microkernel computes 6 output pixels (consecutive in
 * the flattened P·Q index, so row ends cost nothing) × NB channels: 12 (or 6) accumulators, one broadcast input load
 * per pixel and tap. Any stride, dilation, padding (even negative) and group count. Threads: per image,
 * groups × kBlocks × pixel chunks. Scratch: a per-thread Java array (padded input, {@link #paddedPlanes}), workspace
 * slots for the packed weights, dw accumulator, transposed dy and per-task tile.
 */
final class F32ConvDirect {
    /** Weights repacked into output-channel blocks ({@link #packWeights}). */
    static final Workspace.Slot PACKED_WEIGHTS = Workspace.slot("conv.direct.packed-weights");
    /** One row tile of outputs × channel blocks. */
    static final Workspace.Slot OUTPUT_TILE = Workspace.slot("conv.direct.output-tile");
    /** ∂L/∂y transposed into channel blocks (weight gradient). */
    static final Workspace.Slot DY_BLOCKED = Workspace.slot("conv.direct.dy-blocked");
    /** Per-task weight-gradient accumulators. */
    static final Workspace.Slot WEIGHT_GRAD_ACC = Workspace.slot("conv.direct.weight-grad-accumulators");

    static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final int PX = 6;

    private F32ConvDirect() {}

    /** Output-channel block width for a geometry. */
    static int nb(ConvGeom g) { return g.kg() <= VL ? VL : 2 * VL; }

    static int kBlocks(ConvGeom g) { return (g.kg() + nb(g) - 1) / nb(g); }

    /** Floats of packed weights. */
    static long packedSize(ConvGeom g) { return (long) g.groups() * kBlocks(g) * g.cg() * g.r() * g.s() * nb(g); }

    /**
     * Packs weights for geometry {@code g}. {@code adjoint = false}: w is [K, C/g, R, S] of g itself. {@code adjoint =
     * true}: g is the forward convolution computing the input gradient of a convolution whose weights w are
     * [groups·g.cg(), g.kg(), R, S]; they are transposed per group and flipped spatially.
     */
    static void packWeights(ConvGeom g, MemorySegment w, long wo, boolean adjoint, MemorySegment dst) {
        int nb = nb(g), kbs = kBlocks(g), cg = g.cg(), kg = g.kg(), R = g.r(), S = g.s();
        long d = 0;
        for (int gi = 0; gi < g.groups(); gi++)
            for (int kb = 0; kb < kbs; kb++)
                for (int c = 0; c < cg; c++)
                    for (int r = 0; r < R; r++)
                        for (int s = 0; s < S; s++)
                            for (int j = 0; j < nb; j++, d++) {
                                int ko = kb * nb + j;
                                float v = 0;
                                if (ko < kg) {
                                    long src = adjoint
                                            ? ((((long) gi * cg + c) * kg + ko) * R + (R - 1 - r)) * S + (S - 1 - s)
                                            : ((((long) gi * kg + ko) * cg + c) * R + r) * S + s;
                                    v = w.getAtIndex(F, wo + src);
                                }
                                dst.setAtIndex(F, d, v);
                            }
    }

    /** Rows of the padded input plane. */
    static int padH(ConvGeom g) { return (g.p() - 1) * g.sh() + (g.r() - 1) * g.dh() + 1; }

    static int padW(ConvGeom g) { return (g.q() - 1) * g.sw() + (g.s() - 1) * g.dw() + 1; }

    /**
     * Copies image planes [c0, c1) of a source image {@code [C, srcH, srcW]} into {@code xp [C, Hp, Wp]}: padded
     * element (i, j) = logical(i − pt, j − pl), where the logical input is the source upsampled by (uh, uw) with zeros.
     */
    static void padPlanes(MemorySegment x, long xo, int srcH, int srcW, int uh, int uw, int pt, int pl,
                          float[] xp, int hp, int wp, int c0, int c1) {
        int logH = (srcH - 1) * uh + 1, logW = (srcW - 1) * uw + 1;
        for (int c = c0; c < c1; c++) {
            long src = xo + (long) c * srcH * srcW;
            int dst = c * hp * wp;
            for (int i = 0; i < hp; i++) {
                int row = dst + i * wp;
                int li = i - pt;
                if (li < 0 || li >= logH || li % uh != 0) {
                    Arrays.fill(xp, row, row + wp, 0f);
                    continue;
                }
                long srow = src + (long) (li / uh) * srcW;
                if (uw == 1) {
                    int j0 = Math.max(0, pl), j1 = Math.min(wp, pl + srcW);
                    if (j0 > 0) Arrays.fill(xp, row, row + Math.min(j0, wp), 0f);
                    if (j1 > j0) MemorySegment.copy(x, F, (srow + j0 - pl) * 4, xp, row + j0, j1 - j0);
                    int z = Math.max(j1, j0);
                    if (z < wp) Arrays.fill(xp, row + z, row + wp, 0f);
                } else {
                    for (int j = 0; j < wp; j++) {
                        int lj = j - pl;
                        xp[row + j] = (lj < 0 || lj >= logW || lj % uw != 0) ? 0f : x.getAtIndex(F, srow + lj / uw);
                    }
                }
            }
        }
    }

    /**
     * The calling thread's padded-input planes: a Java array, whose scalar loads C2 compiles to plain moves. With a
     * segment, the broadcasts' loads went through calls that C2 sometimes did not inline, and then boxed the live
     * accumulators on the heap around each call (in about half of the JVM runs: 24–36 MB per training step, forward
     * 30% slower). Grows only.
     */
    private static final ThreadLocal<float[][]> PLANES = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    static float[] paddedPlanes(ConvGeom g, long floats) {
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("direct convolution: the zero-padded input of one image (" + g.c() + " channels of "
                    + padH(g) + "x" + padW(g) + ") needs " + floats + " floats, more than a Java array holds");
        }
        float[][] holder = PLANES.get();
        if (holder[0].length < floats) holder[0] = new float[(int) floats];
        return holder[0];
    }

    // ---------------------------------------------------------------- forward

    /** Reusable per-calling-thread job (no allocation per call). */
    private static final class Fwd implements IntConsumer {
        ConvGeom g;
        float[] xp;
        MemorySegment pw, y, bias, res;
        long yo, bo, ro;
        int hp, wp, chunks, chunk;
        ActivationFn act;

        @Override
        public void accept(int t) {
            int kbs = kBlocks(g);
            int chunkIdx = t % chunks, kbAll = t / chunks;
            int gi = kbAll / kbs, kb = kbAll % kbs;
            int pq = g.p() * g.q();
            int j0 = chunkIdx * chunk, j1 = Math.min(pq, j0 + chunk);
            forwardTask(g, xp, hp, wp, pw, gi, kb, j0, j1, y, yo, bias, bo, res, ro, act);
        }
    }

    private static final ThreadLocal<Fwd> FWD = ThreadLocal.withInitial(Fwd::new);

    /**
     * y = act(conv(x) + bias + residual) for geometry g; x is [N, C, srcH, srcW] upsampled by (uh, uw) (1 for an
     * ordinary convolution, in which case srcH = g.h()). pw = packed weights. bias/res may be null.
     */
    static void forward(ConvGeom g, MemorySegment x, long xo, int srcH, int srcW, int uh, int uw, MemorySegment pw,
                        MemorySegment bias, long bo, MemorySegment res, long ro, ActivationFn act,
                        MemorySegment y, long yo) {
        int hp = padH(g), wp = padW(g);
        long planeFloats = (long) g.c() * hp * wp + PX * (long) Math.max(g.sw(), 1) + 64;
        float[] xp = paddedPlanes(g, planeFloats);
        int pq = g.p() * g.q();
        int blocks = g.groups() * kBlocks(g);
        int threads = ComputePool.threads();
        int wantChunks = Math.max(1, (4 * threads + blocks - 1) / blocks);
        int chunk = Math.max(PX, roundUp((pq + wantChunks - 1) / wantChunks, PX));
        int chunks = (pq + chunk - 1) / chunk;
        Fwd job = FWD.get();
        job.g = g; job.xp = xp; job.pw = pw; job.hp = hp; job.wp = wp; job.chunks = chunks; job.chunk = chunk;
        job.bias = bias; job.bo = bo; job.act = act;
        long inImage = (long) g.c() * srcH * srcW, outImage = (long) g.k() * pq;
        for (int n = 0; n < g.n(); n++) {
            padPlanes(x, xo + n * inImage, srcH, srcW, uh, uw, g.pt(), g.pl(), xp, hp, wp, 0, g.c());
            job.y = y; job.yo = yo + n * outImage;
            job.res = res; job.ro = ro + n * outImage;
            ComputePool.parallelFor(blocks * chunks, job);
        }
        job.xp = null; job.pw = null; job.y = null; job.res = null; job.bias = null;
    }

    static int roundUp(int v, int m) { return (v + m - 1) / m * m; }

    /** Output pixels [j0, j1) (flattened p·Q+q) of k-block kb in group gi. */
    static void forwardTask(ConvGeom g, float[] xp, int hp, int wp, MemorySegment pw, int gi, int kb, int j0, int j1,
                            MemorySegment y, long yo, MemorySegment bias, long bo, MemorySegment res, long ro,
                            ActivationFn act) {
        int nb = nb(g), cg = g.cg(), kg = g.kg(), q = g.q(), pq = g.p() * q;
        long wOff = ((long) gi * kBlocks(g) + kb) * cg * g.r() * g.s() * nb;
        int xOff = gi * cg * hp * wp;
        MemorySegment tile = Workspace.ofCurrentThread().floats(OUTPUT_TILE, (long) PX * nb);
        int kLo = gi * kg + kb * nb, kCount = Math.min(nb, kg - kb * nb);
        int hpwp = hp * wp;
        for (int j = j0; j < j1; j += PX) {
            int last = Math.min(j1, pq) - 1;
            int b0 = xOff + base(g, wp, j), b1 = xOff + base(g, wp, Math.min(j + 1, last)),
                    b2 = xOff + base(g, wp, Math.min(j + 2, last)), b3 = xOff + base(g, wp, Math.min(j + 3, last)),
                    b4 = xOff + base(g, wp, Math.min(j + 4, last)), b5 = xOff + base(g, wp, Math.min(j + 5, last));
            if (nb == 2 * VL) kernel6x2(xp, b0, b1, b2, b3, b4, b5, cg, g.r(), g.s(), g.dh(), g.dw(), hpwp, wp, pw, wOff, tile);
            else kernel6x1(xp, b0, b1, b2, b3, b4, b5, cg, g.r(), g.s(), g.dh(), g.dw(), hpwp, wp, pw, wOff, tile);
            int cnt = Math.min(PX, j1 - j);
            for (int kk = 0; kk < kCount; kk++) {
                long dst = yo + (long) (kLo + kk) * pq + j;
                for (int i = 0; i < cnt; i++) y.setAtIndex(F, dst + i, tile.getAtIndex(F, (long) i * nb + kk));
            }
        }
        for (int kk = 0; kk < kCount; kk++) {
            long off = (long) (kLo + kk) * pq + j0;
            float b = bias == null ? 0f : bias.getAtIndex(F, bo + kLo + kk);
            if (bias != null || res != null || !act.isIdentity())
                ConvEpilogue.apply(y, yo + off, j1 - j0, b, res, ro + off, act);
        }
    }

    private static int base(ConvGeom g, int wp, int j) {
        int p = j / g.q(), q = j - p * g.q();
        return p * g.sh() * wp + q * g.sw();
    }

    static void kernel6x2(float[] xp, int b0, int b1, int b2, int b3, int b4, int b5, int cg, int R, int S,
                          int dh, int dw, int hpwp, int wp, MemorySegment pw, long wOff, MemorySegment tile) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
                a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        long wi = wOff * 4;
        for (int c = 0; c < cg; c++) {
            for (int r = 0; r < R; r++) {
                int t = c * hpwp + r * dh * wp;
                for (int s = 0; s < S; s++, t += dw, wi += 8L * VL) {
                    FloatVector w0 = FloatVector.fromMemorySegment(SP, pw, wi, NO);
                    FloatVector w1 = FloatVector.fromMemorySegment(SP, pw, wi + 4L * VL, NO);
                    FloatVector x = FloatVector.broadcast(SP, xp[b0 + t]);
                    a00 = w0.fma(x, a00); a01 = w1.fma(x, a01);
                    x = FloatVector.broadcast(SP, xp[b1 + t]);
                    a10 = w0.fma(x, a10); a11 = w1.fma(x, a11);
                    x = FloatVector.broadcast(SP, xp[b2 + t]);
                    a20 = w0.fma(x, a20); a21 = w1.fma(x, a21);
                    x = FloatVector.broadcast(SP, xp[b3 + t]);
                    a30 = w0.fma(x, a30); a31 = w1.fma(x, a31);
                    x = FloatVector.broadcast(SP, xp[b4 + t]);
                    a40 = w0.fma(x, a40); a41 = w1.fma(x, a41);
                    x = FloatVector.broadcast(SP, xp[b5 + t]);
                    a50 = w0.fma(x, a50); a51 = w1.fma(x, a51);
                }
            }
        }
        long v = 4L * VL;
        a00.intoMemorySegment(tile, 0, NO); a01.intoMemorySegment(tile, v, NO);
        a10.intoMemorySegment(tile, 2 * v, NO); a11.intoMemorySegment(tile, 3 * v, NO);
        a20.intoMemorySegment(tile, 4 * v, NO); a21.intoMemorySegment(tile, 5 * v, NO);
        a30.intoMemorySegment(tile, 6 * v, NO); a31.intoMemorySegment(tile, 7 * v, NO);
        a40.intoMemorySegment(tile, 8 * v, NO); a41.intoMemorySegment(tile, 9 * v, NO);
        a50.intoMemorySegment(tile, 10 * v, NO); a51.intoMemorySegment(tile, 11 * v, NO);
    }

    static void kernel6x1(float[] xp, int b0, int b1, int b2, int b3, int b4, int b5, int cg, int R, int S,
                          int dh, int dw, int hpwp, int wp, MemorySegment pw, long wOff, MemorySegment tile) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        long wi = wOff * 4;
        for (int c = 0; c < cg; c++) {
            for (int r = 0; r < R; r++) {
                int t = c * hpwp + r * dh * wp;
                for (int s = 0; s < S; s++, t += dw, wi += 4L * VL) {
                    FloatVector w0 = FloatVector.fromMemorySegment(SP, pw, wi, NO);
                    a0 = w0.fma(FloatVector.broadcast(SP, xp[b0 + t]), a0);
                    a1 = w0.fma(FloatVector.broadcast(SP, xp[b1 + t]), a1);
                    a2 = w0.fma(FloatVector.broadcast(SP, xp[b2 + t]), a2);
                    a3 = w0.fma(FloatVector.broadcast(SP, xp[b3 + t]), a3);
                    a4 = w0.fma(FloatVector.broadcast(SP, xp[b4 + t]), a4);
                    a5 = w0.fma(FloatVector.broadcast(SP, xp[b5 + t]), a5);
                }
            }
        }
        long v = 4L * VL;
        a0.intoMemorySegment(tile, 0, NO); a1.intoMemorySegment(tile, v, NO); a2.intoMemorySegment(tile, 2 * v, NO);
        a3.intoMemorySegment(tile, 3 * v, NO); a4.intoMemorySegment(tile, 4 * v, NO); a5.intoMemorySegment(tile, 5 * v, NO);
    }

    // ---------------------------------------------------------------- backward data

    /**
     * dx = transposed convolution of dy for the forward geometry g (dx overwritten): a stride-1 direct convolution of
     * dy upsampled by the stride, with per-group transposed, flipped weights. w is [K, C/g, R, S] (unpacked).
     */
    static void backwardData(ConvGeom g, MemorySegment dy, long dyo, MemorySegment w, long wo, MemorySegment dx, long dxo) {
        ConvGeom a = adjoint(g);
        MemorySegment pw = Workspace.ofCurrentThread().floats(PACKED_WEIGHTS, packedSize(a));
        packWeights(a, w, wo, true, pw);
        forward(a, dy, dyo, g.p(), g.q(), g.sh(), g.sw(), pw, null, 0, null, 0, ActivationFn.IDENTITY, dx, dxo);
    }

    /** {@link #adjoint}, one instance per distinct geometry (a training step's input gradients allocate none). */
    static ConvGeom adjointCached(ConvGeom g) {
        ConvGeom a = ADJOINTS.get(g);
        if (a != null) return a;
        if (ADJOINTS.size() >= 4096) ADJOINTS.clear();
        a = adjoint(g);
        ADJOINTS.put(g, a);
        return a;
    }

    private static final java.util.concurrent.ConcurrentHashMap<ConvGeom, ConvGeom> ADJOINTS = new java.util.concurrent.ConcurrentHashMap<>();

    /** The stride-1 geometry (over dy upsampled by the stride) whose forward convolution is g's input gradient. */
    static ConvGeom adjoint(ConvGeom g) {
        return new ConvGeom(g.n(), g.k(), (g.p() - 1) * g.sh() + 1, (g.q() - 1) * g.sw() + 1, g.c(), g.r(), g.s(), 1, 1,
                g.dh() * (g.r() - 1) - g.pt(), g.dw() * (g.s() - 1) - g.pl(), g.dh(), g.dw(), g.groups(), g.h(), g.w());
    }

    // ---------------------------------------------------------------- backward weights

    private static final class Bwd implements IntConsumer {
        ConvGeom g;
        float[] xp;
        MemorySegment dyT, acc;
        int hp, wp, tapBlocks;

        @Override
        public void accept(int t) {
            int kbAll = t / tapBlocks, tb = t % tapBlocks;
            weightTask(g, xp, hp, wp, dyT, acc, kbAll, tb);
        }
    }

    private static final ThreadLocal<Bwd> BWD = ThreadLocal.withInitial(Bwd::new);

    /** dw = Σ_n correlation of x with dy (overwritten); db = Σ dy (when non-null). */
    static void backwardWeights(ConvGeom g, MemorySegment x, long xo, MemorySegment dy, long dyo,
                                MemorySegment dw, long dwo, MemorySegment db, long dbo) {
        int hp = padH(g), wp = padW(g), nb = nb(g), kbs = kBlocks(g), pq = g.p() * g.q();
        int taps = g.cg() * g.r() * g.s();
        int tapBlocks = (taps + PX - 1) / PX;
        int blocks = g.groups() * kbs;
        Workspace ws = Workspace.ofCurrentThread();
        float[] xp = paddedPlanes(g, (long) g.c() * hp * wp + 64);
        MemorySegment dyT = ws.floats(DY_BLOCKED, (long) blocks * pq * nb);
        MemorySegment acc = ws.floats(WEIGHT_GRAD_ACC, (long) blocks * tapBlocks * PX * nb);
        acc.asSlice(0, (long) blocks * tapBlocks * PX * nb * 4).fill((byte) 0);
        Bwd job = BWD.get();
        job.g = g; job.xp = xp; job.dyT = dyT; job.acc = acc; job.hp = hp; job.wp = wp; job.tapBlocks = tapBlocks;
        long inImage = (long) g.c() * g.h() * g.w(), outImage = (long) g.k() * pq;
        for (int n = 0; n < g.n(); n++) {
            padPlanes(x, xo + n * inImage, g.h(), g.w(), 1, 1, g.pt(), g.pl(), xp, hp, wp, 0, g.c());
            transposeDy(g, dy, dyo + n * outImage, dyT);
            ComputePool.parallelFor(blocks * tapBlocks, job);
        }
        job.xp = null; job.dyT = null; job.acc = null;
        // scatter the accumulator [group][kb][tap][nb] into dw [K][C/g][R][S]
        int kg = g.kg();
        for (int gi = 0; gi < g.groups(); gi++)
            for (int kb = 0; kb < kbs; kb++)
                for (int tap = 0; tap < taps; tap++)
                    for (int j = 0; j < nb && kb * nb + j < kg; j++) {
                        long src = (((long) (gi * kbs + kb) * tapBlocks * PX) + tap) * nb + j;
                        int k = gi * kg + kb * nb + j;
                        dw.setAtIndex(F, dwo + (long) k * taps + tap, acc.getAtIndex(F, src));
                    }
        if (db != null) biasGrad(g, dy, dyo, db, dbo);
    }

    /** dyT[group·kb][pix][nb] = dy[n, k, pix] (zero for padding channels). */
    private static void transposeDy(ConvGeom g, MemorySegment dy, long dyo, MemorySegment dyT) {
        int nb = nb(g), kbs = kBlocks(g), kg = g.kg(), pq = g.p() * g.q();
        for (int gi = 0; gi < g.groups(); gi++)
            for (int kb = 0; kb < kbs; kb++) {
                long blk = (long) (gi * kbs + kb) * pq * nb;
                for (int j = 0; j < nb; j++) {
                    int ko = kb * nb + j;
                    if (ko >= kg) {
                        for (int i = 0; i < pq; i++) dyT.setAtIndex(F, blk + (long) i * nb + j, 0f);
                    } else {
                        long src = dyo + (long) (gi * kg + ko) * pq;
                        for (int i = 0; i < pq; i++) dyT.setAtIndex(F, blk + (long) i * nb + j, dy.getAtIndex(F, src + i));
                    }
                }
            }
    }

    /** acc[kbAll][tap block tb][6 taps][nb] += Σ_pixels dyT[pix][nb]·x[tap at pix]. */
    static void weightTask(ConvGeom g, float[] xp, int hp, int wp, MemorySegment dyT, MemorySegment acc, int kbAll, int tb) {
        int nb = nb(g), kbs = kBlocks(g), gi = kbAll / kbs;
        int taps = g.cg() * g.r() * g.s(), pq = g.p() * g.q();
        int xOff = gi * g.cg() * hp * wp;
        int o0 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX, taps - 1)),
                o1 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX + 1, taps - 1)),
                o2 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX + 2, taps - 1)),
                o3 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX + 3, taps - 1)),
                o4 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX + 4, taps - 1)),
                o5 = xOff + tapOffset(g, hp, wp, Math.min(tb * PX + 5, taps - 1));
        long dBase = (long) kbAll * pq * nb;
        long aBase = ((long) kbAll * ((taps + PX - 1) / PX) + tb) * PX * nb;
        for (int p = 0; p < g.p(); p++) {
            int rowBase = p * g.sh() * wp;
            long d = dBase + (long) p * g.q() * nb;
            if (nb == 2 * VL) weightRow6x2(xp, rowBase, g.sw(), g.q(), o0, o1, o2, o3, o4, o5, dyT, d, acc, aBase);
            else weightRow6x1(xp, rowBase, g.sw(), g.q(), o0, o1, o2, o3, o4, o5, dyT, d, acc, aBase);
        }
    }

    private static int tapOffset(ConvGeom g, int hp, int wp, int tap) {
        int rs = g.r() * g.s();
        int c = tap / rs, r = (tap % rs) / g.s(), s = tap % g.s();
        return c * hp * wp + r * g.dh() * wp + s * g.dw();
    }

    static void weightRow6x2(float[] xp, int rowBase, int sw, int q, int o0, int o1, int o2, int o3, int o4,
                             int o5, MemorySegment dyT, long d, MemorySegment acc, long aBase) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
                a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        int b = rowBase;
        long di = d * 4;
        for (int j = 0; j < q; j++, b += sw, di += 8L * VL) {
            FloatVector w0 = FloatVector.fromMemorySegment(SP, dyT, di, NO);
            FloatVector w1 = FloatVector.fromMemorySegment(SP, dyT, di + 4L * VL, NO);
            FloatVector x = FloatVector.broadcast(SP, xp[b + o0]);
            a00 = w0.fma(x, a00); a01 = w1.fma(x, a01);
            x = FloatVector.broadcast(SP, xp[b + o1]);
            a10 = w0.fma(x, a10); a11 = w1.fma(x, a11);
            x = FloatVector.broadcast(SP, xp[b + o2]);
            a20 = w0.fma(x, a20); a21 = w1.fma(x, a21);
            x = FloatVector.broadcast(SP, xp[b + o3]);
            a30 = w0.fma(x, a30); a31 = w1.fma(x, a31);
            x = FloatVector.broadcast(SP, xp[b + o4]);
            a40 = w0.fma(x, a40); a41 = w1.fma(x, a41);
            x = FloatVector.broadcast(SP, xp[b + o5]);
            a50 = w0.fma(x, a50); a51 = w1.fma(x, a51);
        }
        long v = 4L * VL, a = aBase * 4;
        addInto(acc, a, a00); addInto(acc, a + v, a01); addInto(acc, a + 2 * v, a10); addInto(acc, a + 3 * v, a11);
        addInto(acc, a + 4 * v, a20); addInto(acc, a + 5 * v, a21); addInto(acc, a + 6 * v, a30); addInto(acc, a + 7 * v, a31);
        addInto(acc, a + 8 * v, a40); addInto(acc, a + 9 * v, a41); addInto(acc, a + 10 * v, a50); addInto(acc, a + 11 * v, a51);
    }

    static void weightRow6x1(float[] xp, int rowBase, int sw, int q, int o0, int o1, int o2, int o3, int o4,
                             int o5, MemorySegment dyT, long d, MemorySegment acc, long aBase) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        int b = rowBase;
        long di = d * 4;
        for (int j = 0; j < q; j++, b += sw, di += 4L * VL) {
            FloatVector w0 = FloatVector.fromMemorySegment(SP, dyT, di, NO);
            a0 = w0.fma(FloatVector.broadcast(SP, xp[b + o0]), a0);
            a1 = w0.fma(FloatVector.broadcast(SP, xp[b + o1]), a1);
            a2 = w0.fma(FloatVector.broadcast(SP, xp[b + o2]), a2);
            a3 = w0.fma(FloatVector.broadcast(SP, xp[b + o3]), a3);
            a4 = w0.fma(FloatVector.broadcast(SP, xp[b + o4]), a4);
            a5 = w0.fma(FloatVector.broadcast(SP, xp[b + o5]), a5);
        }
        long v = 4L * VL, a = aBase * 4;
        addInto(acc, a, a0); addInto(acc, a + v, a1); addInto(acc, a + 2 * v, a2);
        addInto(acc, a + 3 * v, a3); addInto(acc, a + 4 * v, a4); addInto(acc, a + 5 * v, a5);
    }

    private static void addInto(MemorySegment acc, long byteOff, FloatVector v) {
        FloatVector.fromMemorySegment(SP, acc, byteOff, NO).add(v).intoMemorySegment(acc, byteOff, NO);
    }

    /** db[k] = Σ_{n,p,q} dy[n,k,p,q] (float32 accumulation per plane, summed in float64 across planes). */
    static void biasGrad(ConvGeom g, MemorySegment dy, long dyo, MemorySegment db, long dbo) {
        int pq = g.p() * g.q();
        for (int k = 0; k < g.k(); k++) {
            double sum = 0;
            for (int n = 0; n < g.n(); n++) sum += planeSum(dy, dyo + ((long) n * g.k() + k) * pq, pq);
            db.setAtIndex(F, dbo + k, (float) sum);
        }
    }

    static double planeSum(MemorySegment s, long o, int len) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0;
        int i = 0;
        for (; i <= len - 2 * VL; i += 2 * VL) {
            a0 = a0.add(FloatVector.fromMemorySegment(SP, s, (o + i) * 4, NO));
            a1 = a1.add(FloatVector.fromMemorySegment(SP, s, (o + i + VL) * 4, NO));
        }
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).intoArray(lanes, 0);
        double sum = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < len; i++) sum += s.getAtIndex(F, o + i);
        return sum;
    }
}
