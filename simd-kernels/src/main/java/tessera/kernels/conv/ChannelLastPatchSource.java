package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import tessera.kernels.gemm.PackedBSource;
import tessera.kernels.layout.F32Copy;
import tessera.kernels.layout.F32Transpose;

/**
 * The transposed im2col matrix of a weight gradient (f32-conv-wgrad-nhwc), packed straight from a zero-padded
 * channel-last copy of the input: row {@code (n·P + p)·Q + q} (an output pixel of image n) and column
 * {@code (r·S + s)·C + c} (a tap, channels fastest) hold {@code xpad[n][p·sh + r·dh][q·sw + s·dw][c]}. One tap's
 * channels are contiguous in xpad, so each packed run is one vector copy — no im2col matrix and no transposing
 * pack of it (the NCHW path, {@code dW += dy·colᵀ}, transposed the whole C·R·S × P·Q matrix per image).
 *
 * <p>Groups = 1. {@link #fill} builds xpad for a run of images (row-by-row register transposes, zero border); the
 * product's threads then only read it.
 */
final class ChannelLastPatchSource implements PackedBSource {
    private ConvGeom g;
    private MemorySegment xpad;
    private int hp, wp;

    /** Padded rows of xpad: every tap row any output row reads. */
    static int paddedH(ConvGeom g) { return Math.max(g.h() + g.pt(), (g.p() - 1) * g.sh() + (g.r() - 1) * g.dh() + 1); }

    /** Padded columns of xpad: every tap column any output column reads. */
    static int paddedW(ConvGeom g) { return Math.max(g.w() + g.pl(), (g.q() - 1) * g.sw() + (g.s() - 1) * g.dw() + 1); }

    /** Floats of xpad per image. */
    static long imageFloats(ConvGeom g) { return (long) paddedH(g) * paddedW(g) * g.c(); }

    /**
     * Writes images [n0, n0 + images) of x (NCHW at element offset xo) channel-last and zero-padded into
     * {@code xpad} (at least {@code images · imageFloats(g)} floats) and makes this source read them.
     */
    void fill(ConvGeom g, MemorySegment x, long xo, int n0, int images, MemorySegment xpad) {
        this.g = g;
        this.xpad = xpad;
        this.hp = paddedH(g);
        this.wp = paddedW(g);
        int c = g.c(), h = g.h(), w = g.w(), pt = g.pt(), pl = g.pl();
        long rowFloats = (long) wp * c;
        for (int i = 0; i < images; i++) {
            long img = (long) i * hp * rowFloats;
            for (int row = 0; row < hp; row++) {
                long dst = img + row * rowFloats;
                int ih = row - pt;
                if (ih < 0 || ih >= h) {
                    ConvEpilogue.zero(xpad, dst, rowFloats);
                    continue;
                }
                if (pl > 0) ConvEpilogue.zero(xpad, dst, (long) pl * c);
                long right = (long) (pl + w) * c;
                if (right < rowFloats) ConvEpilogue.zero(xpad, dst + right, rowFloats - right);
                long src = xo + ((long) (n0 + i) * c * h + ih) * w;
                F32Transpose.transpose(x, src, (long) h * w, xpad, dst + (long) pl * c, c, c, w);
            }
        }
    }

    /** Per packing thread: the run table of {@link #pack}. */
    private static final ThreadLocal<int[][]> RUNS = ThreadLocal.withInitial(() -> new int[1][0]);

    private static int[] runTable(int ints) {
        int[][] holder = RUNS.get();
        if (holder[0].length < ints) holder[0] = new int[ints];
        return holder[0];
    }

    /** Drops the reference to the buffer after the product. */
    void clear() { xpad = null; }

    @Override
    public MemorySegment memory() { return xpad; }

    @Override
    public void pack(int p0, int kc, int j0, int nc, int nr, float[] dst) {
        int strips = (nc + nr - 1) / nr, tail = nc - (strips - 1) * nr;
        if (tail < nr) {
            int last = (strips - 1) * nr * kc;
            for (int p = 0; p < kc; p++) Arrays.fill(dst, last + p * nr + tail, last + p * nr + nr, 0f);
        }
        int c = g.c(), q = g.q(), pq = g.p() * q, s = g.s();
        // the runs (one tap's channels inside one strip) are the same for every pixel: laid out once per call as
        // {offset from the pixel's tap-(0, 0) channel 0 in xpad, offset in the pixel's strip row, length}
        int[] runs = runTable(3 * (nc + nr));
        int count = 0;
        for (int j = j0; j < j0 + nc; ) {
            int tap = j / c, ch = j - tap * c, r = tap / s, ss = tap - r * s;
            int inStrip = (j - j0) % nr;
            int run = Math.min(Math.min(c - ch, j0 + nc - j), nr - inStrip);
            runs[3 * count] = Math.toIntExact(((long) r * g.dh() * wp + (long) ss * g.dw()) * c + ch);
            runs[3 * count + 1] = (j - j0 - inStrip) * kc + inStrip;
            runs[3 * count + 2] = run;
            count++;
            j += run;
        }
        int pix = p0, n = pix / pq, rem = pix - n * pq, oh = rem / q, ow = rem - oh * q;
        for (int p = 0; p < kc; p++) {
            long origin = (((long) n * hp + (long) oh * g.sh()) * wp + (long) ow * g.sw()) * c; // tap (0, 0), channel 0
            for (int i = 0, o = 0; i < count; i++, o += 3)
                F32Copy.toArray(xpad, (origin + runs[o]) * 4, dst, runs[o + 1] + p * nr, runs[o + 2]);
            if (++ow == q) {
                ow = 0;
                if (++oh == g.p()) {
                    oh = 0;
                    n++;
                }
            }
        }
    }
}
