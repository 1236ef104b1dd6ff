package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ComputePool;
import tessera.memory.Workspace;

/**
 * Winograd F(m×m, 3×3) float32 convolution (Lavin &amp; Gray), m = 2 ({@link ConvAlgorithm#WINOGRAD_F2X3}, α = 4)
 * or m = 4 ({@link ConvAlgorithm#WINOGRAD_F4X3}, α = 6), for 3×3 stride-1 dilation-1 kernels with any padding and
 * groups.
 *
 * <p>Pipeline, per task = a block of TB output tiles (tiles of all images in one list, so small images batch up):
 * gather the α×α input patches channel-contiguous, input transform {@code V = Bᵀ d B} vectorized over channels,
 * then for each of the α² transformed points a GEMM {@code M[point] (TB × K) = V[point] (TB × C) · U[point] (C × K)}
 * (6×2-vector register tile), then the output transform {@code Y = Aᵀ M A} vectorized over output channels with
 * bias, residual and activation fused into the store. Filters {@code U = G g Gᵀ} are transformed (in float64) once
 * per call or once per {@link ConvPlan}; layout {@code [group][point][kBlock][Cp][NB]}.
 *
 * <p>Numerical error, measured against the float64 reference ({@code ConvWinogradErrorTest}; inputs and weights
 * uniform in [−1, 1], 3×3 pad 1, C = 16…256), as max |error| / max Σ|terms| in units of u = 2⁻²⁴: direct 1.8–2.8 u,
 * im2col 0.7–1.8 u, F(2×2,3×3) 0.8–1.2 u, F(4×4,3×3) 13–23 u (≈ 1e-6 relative: about 10× direct). The error
 * follows the magnitude of the whole α×α input tile, so it is largest relative to outputs near zero padding. The
 * tests allow {@code (L+2)·u·Σ|terms| + E·u·max Σ|terms|} with E = 16 (F2) and 128 (F4).
 */
final class F32Winograd {
    static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    static final int VL = SP.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int MR = 6;

    static final F32Winograd F2 = new F32Winograd(2);
    static final F32Winograd F4 = new F32Winograd(4);

    final int m, alpha;

    private F32Winograd(int m) {
        this.m = m;
        this.alpha = m + 2;
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

    /**
     * U = G·w·Gᵀ per (k, c), packed. {@code adjoint}: as {@link F32ConvDirect#packWeights} (w belongs to the convolution
     * whose input gradient g computes: transposed per group and flipped).
     */
    void transformWeights(ConvGeom g, MemorySegment w, long wo, boolean adjoint, MemorySegment u) {
        double[][] gm = m == 2 ? G2 : G4;
        int cg = g.cg(), kg = g.kg(), nb = nb(g), kbs = kBlocks(g), cp = cPad(g), a2 = alpha * alpha;
        u.asSlice(0, transformedSize(g) * 4).fill((byte) 0);
        double[] f = new double[9];
        double[] t = new double[alpha * 3];
        for (int gi = 0; gi < g.groups(); gi++)
            for (int ko = 0; ko < kg; ko++)
                for (int c = 0; c < cg; c++) {
                    for (int r = 0; r < 3; r++)
                        for (int s = 0; s < 3; s++) {
                            long src = adjoint
                                    ? ((((long) gi * cg + c) * kg + ko) * 3 + (2 - r)) * 3 + (2 - s)
                                    : ((((long) gi * kg + ko) * cg + c) * 3 + r) * 3 + s;
                            f[r * 3 + s] = w.getAtIndex(F, wo + src);
                        }
                    for (int i = 0; i < alpha; i++)
                        for (int s = 0; s < 3; s++)
                            t[i * 3 + s] = gm[i][0] * f[s] + gm[i][1] * f[3 + s] + gm[i][2] * f[6 + s];
                    int kb = ko / nb, j = ko % nb;
                    for (int i = 0; i < alpha; i++)
                        for (int l = 0; l < alpha; l++) {
                            double v = t[i * 3] * gm[l][0] + t[i * 3 + 1] * gm[l][1] + t[i * 3 + 2] * gm[l][2];
                            long dst = ((((long) gi * a2 + i * alpha + l) * kbs + kb) * cp + c) * nb + j;
                            u.setAtIndex(F, dst, (float) v);
                        }
                }
    }

    // ------------------------------------------------------------------ forward

    private static final class Job implements IntConsumer {
        F32Winograd wino;
        ConvGeom g;
        MemorySegment x, u, bias, res, y;
        long xo, bo, ro, yo;
        Activation act;
        float alpha;
        int tb, tiles, kSplits, kbPerSplit;

        @Override
        public void accept(int t) {
            int blk = t / kSplits, ks = t % kSplits;
            int t0 = blk * tb, t1 = Math.min(tiles, t0 + tb);
            int kb0 = ks * kbPerSplit, kb1 = Math.min(kBlocks(g), kb0 + kbPerSplit);
            wino.task(g, x, xo, u, bias, bo, res, ro, act, alpha, y, yo, t0, t1, tb, kb0, kb1);
        }
    }

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    int tilesH(ConvGeom g) { return (g.p() + m - 1) / m; }

    int tilesW(ConvGeom g) { return (g.q() + m - 1) / m; }

    /** y = act(conv(x) + bias + residual) with transformed filters u. */
    void forward(ConvGeom g, MemorySegment x, long xo, MemorySegment u, MemorySegment bias, long bo,
                 MemorySegment res, long ro, Activation act, float alpha, MemorySegment y, long yo) {
        int tiles = g.n() * tilesH(g) * tilesW(g);
        int a2 = this.alpha * this.alpha;
        int cp = cPad(g), kp = kBlocks(g) * nb(g);
        int budget = 80_000 / (a2 * (2 * cp + kp));
        int tb = Math.max(MR, budget / MR * MR);
        tb = Math.min(tb, 16 * MR);
        int threads = ComputePool.threads();
        if (threads > 1) {
            int perTask = (tiles + 2 * threads - 1) / (2 * threads);
            tb = Math.max(MR, Math.min(tb, (perTask + MR - 1) / MR * MR));
        }
        int blocks = (tiles + tb - 1) / tb, kbs = kBlocks(g);
        int kSplits = Math.max(1, Math.min(kbs, (2 * threads + blocks - 1) / blocks));
        if (threads == 1) kSplits = 1;
        int kbPerSplit = (kbs + kSplits - 1) / kSplits;
        kSplits = (kbs + kbPerSplit - 1) / kbPerSplit;
        Job job = JOB.get();
        job.kSplits = kSplits; job.kbPerSplit = kbPerSplit;
        job.wino = this; job.g = g; job.x = x; job.xo = xo; job.u = u; job.bias = bias; job.bo = bo; job.res = res;
        job.ro = ro; job.act = act; job.alpha = alpha; job.y = y; job.yo = yo; job.tb = tb; job.tiles = tiles;
        ComputePool.parallelFor(blocks * kSplits, job);
        job.x = null; job.u = null; job.bias = null; job.res = null; job.y = null;
    }

    /**
     * One block of tiles [t0, t1) and output-channel blocks [kb0, kb1) (of every group). Scratch: slot 4 (patches, V,
     * transform temp), slot 5 (M, output tile).
     */
    void task(ConvGeom g, MemorySegment x, long xo, MemorySegment u, MemorySegment bias, long bo, MemorySegment res,
              long ro, Activation act, float alpha, MemorySegment y, long yo, int t0, int t1, int tbMax, int kb0, int kb1) {
        int a = this.alpha, a2 = a * a;
        int cp = cPad(g), nb = nb(g), kbs = kBlocks(g), kp = kbs * nb;
        int tbp = (tbMax + MR - 1) / MR * MR, count = t1 - t0;
        Workspace ws = Workspace.ofCurrentThread();
        long dSize = (long) tbp * a2 * cp, vSize = (long) a2 * tbp * cp;
        MemorySegment s4 = ws.floats(4, dSize + vSize + (long) a2 * VL);
        long dBase = 0, vBase = dSize, tmpBase = dSize + vSize;
        MemorySegment s5 = ws.floats(5, (long) a2 * tbp * kp + (long) a2 * VL + (long) m * m * VL);
        long mBase = 0, tmp2Base = (long) a2 * tbp * kp, outBase = tmp2Base + (long) a2 * VL;
        int th = tilesH(g), tw = tilesW(g);
        for (int gi = 0; gi < g.groups(); gi++) {
            // 1. gather patches d[tile][i][j][c]
            for (int t = 0; t < count; t++) gatherPatch(g, x, xo, gi, t0 + t, th, tw, s4, dBase + (long) t * a2 * cp, cp);
            // 2. input transform into V[point][tile][c]
            for (int t = 0; t < count; t++)
                for (int cv = 0; cv < cp; cv += VL)
                    inputTransform(s4, dBase + (long) t * a2 * cp + cv, cp, tmpBase,
                            vBase + (long) t * cp + cv, (long) tbp * cp);
            // 3. GEMM per point
            long uGroup = (long) gi * a2 * kbs * cp * nb;
            for (int pt = 0; pt < a2; pt++)
                for (int kb = kb0; kb < kb1; kb++) {
                    long uOff = uGroup + ((long) pt * kbs + kb) * cp * nb;
                    for (int r0 = 0; r0 < count; r0 += MR) {
                        long vOff = vBase + ((long) pt * tbp + r0) * cp;
                        long mOff = mBase + ((long) pt * tbp + r0) * kp + (long) kb * nb;
                        if (nb == 2 * VL) gemm6x2(s4, vOff, cp, u, uOff, g.cg(), s5, mOff, kp);
                        else gemm6x1(s4, vOff, cp, u, uOff, g.cg(), s5, mOff, kp);
                    }
                }
            // 4. output transform + fused epilogue
            for (int t = 0; t < count; t++)
                for (int kv = kb0 * nb; kv < kb1 * nb; kv += VL) {
                    int lanes = Math.min(VL, g.kg() - kv);
                    if (lanes <= 0) break;
                    outputTransform(s5, mBase + (long) t * kp + kv, (long) tbp * kp, tmp2Base, outBase);
                    scatter(g, s5, outBase, gi * g.kg() + kv, lanes, t0 + t, th, tw, bias, bo, res, ro, act, alpha, y, yo);
                }
        }
    }

    private void gatherPatch(ConvGeom g, MemorySegment x, long xo, int gi, int tile, int th, int tw,
                             MemorySegment d, long dOff, int cp) {
        int a = alpha, cg = g.cg();
        int n = tile / (th * tw), rem = tile % (th * tw), ty = rem / tw, tx = rem % tw;
        int h0 = ty * m - g.pt(), w0 = tx * m - g.pl();
        long img = xo + ((long) n * g.c() + (long) gi * cg) * g.h() * g.w();
        for (int c = 0; c < cg; c++) {
            long plane = img + (long) c * g.h() * g.w();
            for (int i = 0; i < a; i++) {
                int ih = h0 + i;
                boolean rowIn = ih >= 0 && ih < g.h();
                long srow = plane + (long) ih * g.w();
                long drow = dOff + (long) i * a * cp + c;
                for (int j = 0; j < a; j++) {
                    int iw = w0 + j;
                    float v = rowIn && iw >= 0 && iw < g.w() ? x.getAtIndex(F, srow + iw) : 0f;
                    d.setAtIndex(F, drow + (long) j * cp, v);
                }
            }
        }
        for (int c = cg; c < cp; c++)
            for (int i = 0; i < a * a; i++) d.setAtIndex(F, dOff + (long) i * cp + c, 0f);
    }

    /** V = Bᵀ d B on one channel vector: d at dOff (element (i,j) at (i·α+j)·cp), V point p at vOff + p·pointStride. */
    private void inputTransform(MemorySegment s, long dOff, int cp, long tmp, long vOff, long pointStride) {
        int a = alpha;
        // rows: for each column j, transform down the α rows -> tmp[i][j]
        for (int j = 0; j < a; j++) {
            long src = (dOff + (long) j * cp) * 4, dst = (tmp + (long) j * VL) * 4;
            if (m == 2) in4(s, src, (long) a * cp * 4, s, dst, (long) a * VL * 4);
            else in6(s, src, (long) a * cp * 4, s, dst, (long) a * VL * 4);
        }
        // columns: for each row i, transform along j -> V[i·α + l]
        for (int i = 0; i < a; i++) {
            long src = (tmp + (long) i * a * VL) * 4, dst = (vOff + (long) i * a * pointStride) * 4;
            if (m == 2) in4(s, src, (long) VL * 4, s, dst, pointStride * 4);
            else in6(s, src, (long) VL * 4, s, dst, pointStride * 4);
        }
    }

    private static FloatVector ld(MemorySegment s, long b) { return FloatVector.fromMemorySegment(SP, s, b, NO); }

    /** F(2,3) Bᵀ on 4 vectors. */
    static void in4(MemorySegment s, long src, long ss, MemorySegment d, long dst, long ds) {
        FloatVector d0 = ld(s, src), d1 = ld(s, src + ss), d2 = ld(s, src + 2 * ss), d3 = ld(s, src + 3 * ss);
        d0.sub(d2).intoMemorySegment(d, dst, NO);
        d1.add(d2).intoMemorySegment(d, dst + ds, NO);
        d2.sub(d1).intoMemorySegment(d, dst + 2 * ds, NO);
        d1.sub(d3).intoMemorySegment(d, dst + 3 * ds, NO);
    }

    /** F(4,3) Bᵀ on 6 vectors. */
    static void in6(MemorySegment s, long src, long ss, MemorySegment d, long dst, long ds) {
        FloatVector d0 = ld(s, src), d1 = ld(s, src + ss), d2 = ld(s, src + 2 * ss), d3 = ld(s, src + 3 * ss),
                d4 = ld(s, src + 4 * ss), d5 = ld(s, src + 5 * ss);
        FloatVector t0 = d4.sub(d2.mul(4f)), t1 = d3.sub(d1.mul(4f)); // d4-4d2, d3-4d1
        FloatVector t2 = d4.sub(d2), t3 = d3.sub(d1).mul(2f);         // d4-d2, 2(d3-d1)
        d0.mul(4f).sub(d2.mul(5f)).add(d4).intoMemorySegment(d, dst, NO);
        t0.add(t1).intoMemorySegment(d, dst + ds, NO);
        t0.sub(t1).intoMemorySegment(d, dst + 2 * ds, NO);
        t2.add(t3).intoMemorySegment(d, dst + 3 * ds, NO);
        t2.sub(t3).intoMemorySegment(d, dst + 4 * ds, NO);
        d1.mul(4f).sub(d3.mul(5f)).add(d5).intoMemorySegment(d, dst + 5 * ds, NO);
    }

    /** Y = Aᵀ M A on one output-channel vector: M point p at mOff + p·pointStride; result [m][m][VL] at out. */
    private void outputTransform(MemorySegment s, long mOff, long pointStride, long tmp, long out) {
        int a = alpha;
        for (int j = 0; j < a; j++) {
            long src = (mOff + (long) j * pointStride) * 4, dst = (tmp + (long) j * VL) * 4;
            if (m == 2) out4(s, src, (long) a * pointStride * 4, s, dst, (long) a * VL * 4);
            else out6(s, src, (long) a * pointStride * 4, s, dst, (long) a * VL * 4);
        }
        for (int i = 0; i < m; i++) {
            long src = (tmp + (long) i * a * VL) * 4, dst = (out + (long) i * m * VL) * 4;
            if (m == 2) out4(s, src, (long) VL * 4, s, dst, (long) VL * 4);
            else out6(s, src, (long) VL * 4, s, dst, (long) VL * 4);
        }
    }

    /** F(2,3) Aᵀ: 4 vectors → 2. */
    static void out4(MemorySegment s, long src, long ss, MemorySegment d, long dst, long ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss);
        m0.add(m1).add(m2).intoMemorySegment(d, dst, NO);
        m1.sub(m2).sub(m3).intoMemorySegment(d, dst + ds, NO);
    }

    /** F(4,3) Aᵀ: 6 vectors → 4. */
    static void out6(MemorySegment s, long src, long ss, MemorySegment d, long dst, long ds) {
        FloatVector m0 = ld(s, src), m1 = ld(s, src + ss), m2 = ld(s, src + 2 * ss), m3 = ld(s, src + 3 * ss),
                m4 = ld(s, src + 4 * ss), m5 = ld(s, src + 5 * ss);
        FloatVector sa = m1.add(m2), da = m1.sub(m2), sb = m3.add(m4), db = m3.sub(m4);
        m0.add(sa).add(sb).intoMemorySegment(d, dst, NO);
        db.mul(2f).add(da).intoMemorySegment(d, dst + ds, NO);
        sb.mul(4f).add(sa).intoMemorySegment(d, dst + 2 * ds, NO);
        db.mul(8f).add(da).add(m5).intoMemorySegment(d, dst + 3 * ds, NO);
    }

    private void scatter(ConvGeom g, MemorySegment s, long out, int k0, int lanes, int tile, int th, int tw,
                         MemorySegment bias, long bo, MemorySegment res, long ro, Activation act, float alpha,
                         MemorySegment y, long yo) {
        int n = tile / (th * tw), rem = tile % (th * tw), oh0 = (rem / tw) * m, ow0 = (rem % tw) * m;
        int pq = g.p() * g.q();
        int rows = Math.min(m, g.p() - oh0), cols = Math.min(m, g.q() - ow0);
        boolean simple = act == Activation.IDENTITY || act == Activation.RELU;
        boolean relu = act == Activation.RELU;
        for (int kk = 0; kk < lanes; kk++) {
            int k = k0 + kk;
            float b = bias == null ? 0f : bias.getAtIndex(F, bo + k);
            long plane = ((long) n * g.k() + k) * pq;
            for (int i = 0; i < rows; i++) {
                long yrow = plane + (long) (oh0 + i) * g.q() + ow0;
                long srow = out + (long) i * m * VL + kk;
                for (int j = 0; j < cols; j++) {
                    float v = s.getAtIndex(F, srow + (long) j * VL) + b;
                    if (res != null) v += res.getAtIndex(F, ro + yrow + j);
                    if (simple) {
                        if (relu && v < 0) v = 0f;
                    } else {
                        v = (float) ConvReference.activate(act, alpha, v);
                    }
                    y.setAtIndex(F, yo + yrow + j, v);
                }
            }
        }
    }

    /** M rows [6] × 2 vectors: M[r][0..2VL) = Σ_c V[r][c]·U[c][0..2VL). */
    static void gemm6x2(MemorySegment v, long vOff, int ldv, MemorySegment u, long uOff, int kc, MemorySegment mm,
                        long mOff, int ldm) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
                a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        long r0 = vOff, r1 = r0 + ldv, r2 = r1 + ldv, r3 = r2 + ldv, r4 = r3 + ldv, r5 = r4 + ldv;
        long ub = uOff * 4;
        for (int c = 0; c < kc; c++, ub += 8L * VL) {
            FloatVector w0 = FloatVector.fromMemorySegment(SP, u, ub, NO);
            FloatVector w1 = FloatVector.fromMemorySegment(SP, u, ub + 4L * VL, NO);
            FloatVector x = FloatVector.broadcast(SP, v.getAtIndex(F, r0 + c));
            a00 = w0.fma(x, a00); a01 = w1.fma(x, a01);
            x = FloatVector.broadcast(SP, v.getAtIndex(F, r1 + c));
            a10 = w0.fma(x, a10); a11 = w1.fma(x, a11);
            x = FloatVector.broadcast(SP, v.getAtIndex(F, r2 + c));
            a20 = w0.fma(x, a20); a21 = w1.fma(x, a21);
            x = FloatVector.broadcast(SP, v.getAtIndex(F, r3 + c));
            a30 = w0.fma(x, a30); a31 = w1.fma(x, a31);
            x = FloatVector.broadcast(SP, v.getAtIndex(F, r4 + c));
            a40 = w0.fma(x, a40); a41 = w1.fma(x, a41);
            x = FloatVector.broadcast(SP, v.getAtIndex(F, r5 + c));
            a50 = w0.fma(x, a50); a51 = w1.fma(x, a51);
        }
        long o = mOff * 4, ld = (long) ldm * 4, h = 4L * VL;
        a00.intoMemorySegment(mm, o, NO); a01.intoMemorySegment(mm, o + h, NO);
        a10.intoMemorySegment(mm, o + ld, NO); a11.intoMemorySegment(mm, o + ld + h, NO);
        a20.intoMemorySegment(mm, o + 2 * ld, NO); a21.intoMemorySegment(mm, o + 2 * ld + h, NO);
        a30.intoMemorySegment(mm, o + 3 * ld, NO); a31.intoMemorySegment(mm, o + 3 * ld + h, NO);
        a40.intoMemorySegment(mm, o + 4 * ld, NO); a41.intoMemorySegment(mm, o + 4 * ld + h, NO);
        a50.intoMemorySegment(mm, o + 5 * ld, NO); a51.intoMemorySegment(mm, o + 5 * ld + h, NO);
    }

    static void gemm6x1(MemorySegment v, long vOff, int ldv, MemorySegment u, long uOff, int kc, MemorySegment mm,
                        long mOff, int ldm) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        long r0 = vOff, r1 = r0 + ldv, r2 = r1 + ldv, r3 = r2 + ldv, r4 = r3 + ldv, r5 = r4 + ldv;
        long ub = uOff * 4;
        for (int c = 0; c < kc; c++, ub += 4L * VL) {
            FloatVector w0 = FloatVector.fromMemorySegment(SP, u, ub, NO);
            a0 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r0 + c)), a0);
            a1 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r1 + c)), a1);
            a2 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r2 + c)), a2);
            a3 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r3 + c)), a3);
            a4 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r4 + c)), a4);
            a5 = w0.fma(FloatVector.broadcast(SP, v.getAtIndex(F, r5 + c)), a5);
        }
        long o = mOff * 4, ld = (long) ldm * 4;
        a0.intoMemorySegment(mm, o, NO); a1.intoMemorySegment(mm, o + ld, NO); a2.intoMemorySegment(mm, o + 2 * ld, NO);
        a3.intoMemorySegment(mm, o + 3 * ld, NO); a4.intoMemorySegment(mm, o + 4 * ld, NO); a5.intoMemorySegment(mm, o + 5 * ld, NO);
    }
}
