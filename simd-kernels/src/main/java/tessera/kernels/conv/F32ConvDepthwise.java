package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.layout.F32Copy;

/**
 * f32-dwconv: depthwise convolution forward (groups = C = K, one filter per channel, as in MobileNet), vectorized
 * over output columns — the channel-blocked direct kernel would use one lane of each vector here. Per task = one
 * (image, channel) plane: the plane is copied into a zero-padded per-thread heap array (so no tap needs a bounds
 * test), then each output row is {@code Σ_{r,s} w[r][s]·x[row][q·sw + s·dw]} over vectors of output columns
 * (contiguous loads: at stride > 1 each padded row is first split into its column phases), stored with bias, residual and activation fused.
 * Any kernel size, stride, dilation and padding.
 */
final class F32ConvDepthwise {
    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final int VL = SP.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private F32ConvDepthwise() {}

    /** True for depthwise geometry with channel multiplier 1 and non-negative padding (what this kernel computes). */
    static boolean applies(ConvGeom g) {
        return g.groups() == g.c() && g.k() == g.c() && g.groups() > 1 && g.pt() >= 0 && g.pl() >= 0;
    }

    /** y = act(conv(x) + bias + residual); w is [C, 1, R, S] at element offset wo. */
    static void forward(ConvGeom g, MemorySegment x, long xo, MemorySegment w, long wo, MemorySegment bias, long bo,
                        MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        Job j = JOB.get();
        j.g = g; j.x = x; j.xo = xo; j.w = w; j.wo = wo; j.bias = bias; j.bo = bo; j.res = res; j.ro = ro; j.act = act;
        j.y = y; j.yo = yo;
        try {
            ComputePool.parallelFor(g.n() * g.c(), j);
        } finally {
            j.x = j.w = j.bias = j.res = j.y = null;
        }
    }

    private static final class Job implements IntConsumer {
        ConvGeom g;
        MemorySegment x, w, bias, res, y;
        long xo, wo, bo, ro, yo;
        ActivationFn act;

        @Override
        public void accept(int plane) { F32ConvDepthwise.plane(g, plane, x, xo, w, wo, bias, bo, res, ro, act, y, yo); }
    }

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /** Per-thread heap buffers: the padded plane, the output plane, the filter taps, the phases. */
    private static final class Scratch {
        float[] padded = new float[0], out = new float[0], taps = new float[0], phases = new float[0];
        /** The geometry whose zero border {@link #padded} holds (its interior is overwritten plane by plane), or null. */
        ConvGeom border;
        /** Per tap: its offset in the phase array (stride > 1), see {@link #rowPhased}. */
        int[] tapAt = new int[0];
        /** Gather offsets {0, sw, 2·sw, …} of the column-phase split, for stride {@code gatherStride} (not 2). */
        int[] gather;
        int gatherStride;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /*
     * Per plane: one bulk copy of the input plane to the heap and one of the output plane back (a copy between a
     * segment and an array has a fixed cost that per-row copies pay P + H times; a 7×7 plane is 63 FMAs), and only
     * the padding border of the padded plane is zeroed.
     */
    private static void plane(ConvGeom g, int plane, MemorySegment x, long xo, MemorySegment w, long wo, MemorySegment bias,
                              long bo, MemorySegment res, long ro, ActivationFn act, MemorySegment y, long yo) {
        int c = plane % g.c();
        int qv = (g.q() + VL - 1) / VL * VL;
        int hp = Math.max(g.h() + g.pt(), (g.p() - 1) * g.sh() + (g.r() - 1) * g.dh() + 1);
        int wp = Math.max(g.w() + g.pl(), (qv - 1) * g.sw() + (g.s() - 1) * g.dw() + 1);
        Scratch sc = SCRATCH.get();
        int need = hp * wp, hw = g.h() * g.w(), pq = g.p() * g.q();
        int slack = 2 * VL * g.sw();  // the phase split reads whole vectors past the last column
        if (sc.padded.length < need + slack) {
            sc.padded = new float[need + slack];
            sc.border = null;
        }
        if (sc.out.length < pq + qv) sc.out = new float[pq + qv];
        if (sc.taps.length < g.r() * g.s()) sc.taps = new float[g.r() * g.s()];
        float[] pad = sc.padded, outPlane = sc.out, taps = sc.taps;
        long src = xo + (long) plane * hw;
        // the zero border is written once per geometry: planes of one layer only overwrite the interior
        if (sc.border != g) {
            Arrays.fill(pad, 0f);
            sc.border = g;
        }
        copyInterior(x, src, g.h(), g.w(), g.pt(), g.pl(), wp, pad);
        // stride > 1: split every padded row into sw column phases once, so each tap reads contiguous floats
        int sw = g.sw(), wq = (wp + sw - 1) / sw;
        if (sw > 1) {
            if (sc.phases.length < sw * hp * wq + VL) sc.phases = new float[sw * hp * wq + VL];
            if (sw == 2) {
                splitPhases2(pad, hp, wp, wq, sc.phases);
            } else {
                if (sc.gather == null || sc.gatherStride != sw) {
                    sc.gather = new int[VL];
                    for (int i = 0; i < VL; i++) sc.gather[i] = i * sw;
                    sc.gatherStride = sw;
                }
                splitPhases(pad, hp, wp, sw, wq, sc.gather, sc.phases);
            }
        }
        for (int t = 0; t < g.r() * g.s(); t++) taps[t] = w.getAtIndex(F, wo + (long) c * g.r() * g.s() + t);
        if (sw > 1) {
            if (sc.tapAt.length < g.r() * g.s()) sc.tapAt = new int[g.r() * g.s()];
            for (int r = 0; r < g.r(); r++)
                for (int s = 0; s < g.s(); s++) {
                    int tap = s * g.dw();
                    sc.tapAt[r * g.s() + s] = ((tap % sw) * hp + r * g.dh()) * wq + tap / sw;
                }
        }
        float b = bias == null ? 0f : bias.getAtIndex(F, bo + c);
        long out = (long) plane * pq;
        // bias and ReLU/CLIP (ReLU6) are applied in registers; a residual or another activation in a pass over the stored plane
        Activation kind = act.kind();
        boolean inRegisters = res == null && (kind == Activation.IDENTITY || kind == Activation.RELU || kind == Activation.CLIP);
        float rowBias = inRegisters ? b : 0f;
        boolean clamp = inRegisters && kind != Activation.IDENTITY;
        float lo = kind == Activation.CLIP ? act.a() : 0f, hi = kind == Activation.CLIP ? act.b() : Float.POSITIVE_INFINITY;
        // rows are written in order, qv floats each: a row's padding lanes are overwritten by the next row
        int oh = 0;
        boolean threeByThreeStride2 = g.sw() == 2 && g.sh() == 2 && g.r() == 3 && g.s() == 3 && g.dh() == 1 && g.dw() == 1;
        if (g.sw() == 1 && g.sh() == 1 && g.r() == 3 && g.s() == 3 && g.dh() == 1 && g.dw() == 1) {
            for (; oh + 2 <= g.p(); oh += 2) rowPair3x3(pad, wp, oh, taps, rowBias, clamp, lo, hi, outPlane, oh * g.q(), g.q(), qv);
        }
        for (; oh < g.p(); oh++) {
            int at = oh * g.q();
            if (g.sw() == 1) rowStride1(pad, wp, oh * g.sh(), g.r(), g.s(), g.dh(), g.dw(), taps, rowBias, clamp, lo, hi, outPlane, at, qv);
            else if (threeByThreeStride2) rowPhased3x3(sc.phases, hp, wq, oh * 2, taps, rowBias, clamp, lo, hi, outPlane, at, qv);
            else rowPhased(sc.phases, sc.tapAt, g.r() * g.s(), oh * g.sh() * wq, taps, rowBias, clamp, lo, hi, outPlane, at, qv);
        }
        MemorySegment.copy(outPlane, 0, y, F, (yo + out) * 4, pq);
        if (!inRegisters) ConvEpilogue.apply(y, yo + out, pq, b, res, res == null ? 0 : ro + out, act);
    }

    /**
     * The h×w input plane at element {@code src} of x into rows pt… of the padded plane (row stride wp, column pl),
     * one vector loop per row (masked tail): a bulk copy call per row cost more than the row's arithmetic.
     */
    private static void copyInterior(MemorySegment x, long src, int h, int w, int pt, int pl, int wp, float[] pad) {
        for (int ih = 0; ih < h; ih++) F32Copy.toArray(x, (src + (long) ih * w) * 4, pad, (ih + pt) * wp + pl, w);
    }

    /**
     * row[q] = bias + Σ taps[r·S+s]·pad[(h0 + r·dh)·wp + q + s·dw] for q &lt; qv (a multiple of VL), then
     * min(max(·, lo), hi) when {@code clamp} (ReLU: lo 0, hi +∞).
     */
    private static void rowStride1(float[] pad, int wp, int h0, int R, int S, int dh, int dw, float[] taps, float bias,
                                   boolean clamp, float lo, float hi, float[] row, int at, int qv) {
        int q = 0;
        // two output vectors per step: each tap's broadcast serves two FMAs
        for (; q + 2 * VL <= qv; q += 2 * VL) {
            FloatVector acc0 = FloatVector.broadcast(SP, bias), acc1 = acc0;
            for (int r = 0; r < R; r++) {
                int base = (h0 + r * dh) * wp + q;
                for (int s = 0; s < S; s++) {
                    FloatVector t = FloatVector.broadcast(SP, taps[r * S + s]);
                    acc0 = FloatVector.fromArray(SP, pad, base + s * dw).fma(t, acc0);
                    acc1 = FloatVector.fromArray(SP, pad, base + s * dw + VL).fma(t, acc1);
                }
            }
            if (clamp) {
                acc0 = acc0.max(lo).min(hi);
                acc1 = acc1.max(lo).min(hi);
            }
            acc0.intoArray(row, at + q);
            acc1.intoArray(row, at + q + VL);
        }
        for (; q < qv; q += VL) {
            FloatVector acc = FloatVector.broadcast(SP, bias);
            for (int r = 0; r < R; r++) {
                int base = (h0 + r * dh) * wp + q;
                for (int s = 0; s < S; s++) {
                    acc = FloatVector.fromArray(SP, pad, base + s * dw).fma(FloatVector.broadcast(SP, taps[r * S + s]), acc);
                }
            }
            if (clamp) acc = acc.max(lo).min(hi);
            acc.intoArray(row, at + q);
        }
    }

    /**
     * {@link #rowStride1} for a 3×3 stride-1 undilated filter, two output rows (h0, h0 + 1) at once: the nine taps stay
     * in registers and each loaded input vector serves both rows it belongs to (24 loads per 36 multiply-adds instead
     * of 36). Row h0 goes to {@code row[at..]} (q floats), row h0 + 1 to {@code row[at + q..]} (qv floats: the next rows overwrite
     * the excess).
     */
    private static void rowPair3x3(float[] pad, int wp, int h0, float[] taps, float bias, boolean clamp, float lo, float hi,
                                   float[] row, int at, int q, int qv) {
        FloatVector t0 = FloatVector.broadcast(SP, taps[0]), t1 = FloatVector.broadcast(SP, taps[1]), t2 = FloatVector.broadcast(SP, taps[2]);
        FloatVector t3 = FloatVector.broadcast(SP, taps[3]), t4 = FloatVector.broadcast(SP, taps[4]), t5 = FloatVector.broadcast(SP, taps[5]);
        FloatVector t6 = FloatVector.broadcast(SP, taps[6]), t7 = FloatVector.broadcast(SP, taps[7]), t8 = FloatVector.broadcast(SP, taps[8]);
        int r0 = h0 * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp;
        VectorMask<Float> topTail = SP.indexInRange(qv - VL, q);
        for (int c = 0; c < qv; c += VL) {
            FloatVector top = FloatVector.broadcast(SP, bias), bottom = top;
            // input row 0: the top output row's first filter row
            top = ld(pad, r0 + c).fma(t0, top);
            top = ld(pad, r0 + c + 1).fma(t1, top);
            top = ld(pad, r0 + c + 2).fma(t2, top);
            // input rows 1 and 2 serve both output rows
            FloatVector x0 = ld(pad, r1 + c), x1 = ld(pad, r1 + c + 1), x2 = ld(pad, r1 + c + 2);
            top = x0.fma(t3, top); top = x1.fma(t4, top); top = x2.fma(t5, top);
            bottom = x0.fma(t0, bottom); bottom = x1.fma(t1, bottom); bottom = x2.fma(t2, bottom);
            x0 = ld(pad, r2 + c); x1 = ld(pad, r2 + c + 1); x2 = ld(pad, r2 + c + 2);
            top = x0.fma(t6, top); top = x1.fma(t7, top); top = x2.fma(t8, top);
            bottom = x0.fma(t3, bottom); bottom = x1.fma(t4, bottom); bottom = x2.fma(t5, bottom);
            // input row 3: the bottom output row's last filter row
            bottom = ld(pad, r3 + c).fma(t6, bottom);
            bottom = ld(pad, r3 + c + 1).fma(t7, bottom);
            bottom = ld(pad, r3 + c + 2).fma(t8, bottom);
            if (clamp) {
                top = top.max(lo).min(hi);
                bottom = bottom.max(lo).min(hi);
            }
            // the top row's last vector is stored masked: its lanes past q would land on the bottom row's first floats
            if (c + VL < qv) top.intoArray(row, at + c);
            else top.intoArray(row, at + c, topTail);
            bottom.intoArray(row, at + q + c);
        }
    }

    private static FloatVector ld(float[] a, int i) { return FloatVector.fromArray(SP, a, i); }

    /**
     * {@link #rowPhased} for a 3×3 stride-2 undilated filter with the taps in registers: filter column 0 reads phase 0
     * at i, column 1 phase 1 at i, column 2 phase 0 at i + 1 ({@code phases[(phase·hp + row)·wq + i]}); input rows
     * h0 … h0 + 2.
     */
    private static void rowPhased3x3(float[] phases, int hp, int wq, int h0, float[] taps, float bias, boolean clamp,
                                     float lo, float hi, float[] row, int at, int qv) {
        FloatVector t0 = FloatVector.broadcast(SP, taps[0]), t1 = FloatVector.broadcast(SP, taps[1]), t2 = FloatVector.broadcast(SP, taps[2]);
        FloatVector t3 = FloatVector.broadcast(SP, taps[3]), t4 = FloatVector.broadcast(SP, taps[4]), t5 = FloatVector.broadcast(SP, taps[5]);
        FloatVector t6 = FloatVector.broadcast(SP, taps[6]), t7 = FloatVector.broadcast(SP, taps[7]), t8 = FloatVector.broadcast(SP, taps[8]);
        int e0 = h0 * wq, e1 = e0 + wq, e2 = e1 + wq, odd = hp * wq;
        for (int c = 0; c < qv; c += VL) {
            FloatVector acc = FloatVector.broadcast(SP, bias);
            acc = ld(phases, e0 + c).fma(t0, acc);
            acc = ld(phases, odd + e0 + c).fma(t1, acc);
            acc = ld(phases, e0 + c + 1).fma(t2, acc);
            acc = ld(phases, e1 + c).fma(t3, acc);
            acc = ld(phases, odd + e1 + c).fma(t4, acc);
            acc = ld(phases, e1 + c + 1).fma(t5, acc);
            acc = ld(phases, e2 + c).fma(t6, acc);
            acc = ld(phases, odd + e2 + c).fma(t7, acc);
            acc = ld(phases, e2 + c + 1).fma(t8, acc);
            if (clamp) acc = acc.max(lo).min(hi);
            acc.intoArray(row, at + c);
        }
    }

    /**
     * Splits every padded row into its {@code sw} column phases: {@code phases[(phase·hp + row)·wq + i]} = padded
     * column {@code i·sw + phase} (0 past the row), with vector gathers of stride sw ({@code gather}); {@code pad} has
     * at least VL·sw floats of slack past {@code need} so the last gathers stay in the array.
     */
    private static void splitPhases(float[] pad, int hp, int wp, int sw, int wq, int[] gather, float[] phases) {
        for (int phase = 0; phase < sw; phase++) {
            for (int rr = 0; rr < hp; rr++) {
                int d = (phase * hp + rr) * wq, src0 = rr * wp + phase;
                int valid = (wp - phase + sw - 1) / sw;      // padded columns of this phase in the row
                int i = 0;
                for (; i + VL <= valid; i += VL) FloatVector.fromArray(SP, pad, src0 + i * sw, gather, 0).intoArray(phases, d + i);
                for (; i < valid; i++) phases[d + i] = pad[src0 + i * sw];
                for (; i < wq; i++) phases[d + i] = 0f;
            }
        }
    }

    /**
     * {@link #splitPhases} for stride 2 without gathers: the even and odd lanes of two consecutive vector loads
     * that lie inside the row, the rest element by element.
     */
    private static void splitPhases2(float[] pad, int hp, int wp, int wq, float[] phases) {
        // lane j of even/odd = 2j / 2j + 1: two-vector selectFrom indices into [lo | hi] (no shuffle objects, which
        // C2 does not always scalar-replace: they were 11 KB per MobileNetV2 run)
        FloatVector even = FloatVector.zero(SP).addIndex(2), odd = even.add(1f);
        int oddBase = hp * wq;
        for (int rr = 0; rr < hp; rr++) {
            int src0 = rr * wp, d = rr * wq;
            int i = 0;
            for (; 2 * (i + VL) <= wp; i += VL) {
                FloatVector lo = FloatVector.fromArray(SP, pad, src0 + 2 * i), hi = FloatVector.fromArray(SP, pad, src0 + 2 * i + VL);
                even.selectFrom(lo, hi).intoArray(phases, d + i);
                odd.selectFrom(lo, hi).intoArray(phases, oddBase + d + i);
            }
            for (; i < wq; i++) {
                int col = 2 * i;
                phases[d + i] = col < wp ? pad[src0 + col] : 0f;
                phases[oddBase + d + i] = col + 1 < wp ? pad[src0 + col + 1] : 0f;
            }
        }
    }

    /**
     * As {@link #rowStride1} with output column q reading input column q·sw + s·dw, taken from the column phase
     * {@code (s·dw) mod sw} of the row ({@code phases[(phase·hp + row)·wq + i]} = padded column i·sw + phase);
     * {@code tapAt[r·S + s]} is the tap's offset in {@code phases} for output row 0 and column 0 (computed once
     * per plane: a division per tap and vector cost more than the FMA).
     */
    private static void rowPhased(float[] phases, int[] tapAt, int taps0, int rowAt, float[] taps, float bias,
                                  boolean clamp, float lo, float hi, float[] row, int at, int qv) {
        for (int q = 0; q < qv; q += VL) {
            FloatVector acc = FloatVector.broadcast(SP, bias);
            for (int t = 0; t < taps0; t++) {
                acc = FloatVector.fromArray(SP, phases, tapAt[t] + rowAt + q).fma(FloatVector.broadcast(SP, taps[t]), acc);
            }
            if (clamp) acc = acc.max(lo).min(hi);
            acc.intoArray(row, at + q);
        }
    }
}
