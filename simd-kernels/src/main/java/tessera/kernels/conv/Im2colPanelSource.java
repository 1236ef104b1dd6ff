package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.layout.F32Copy;
import tessera.kernels.gemm.PackedBSource;

/**
 * The im2col matrix of one convolution group over a batch of images, written straight into the GEMM's packed B
 * panels (f32-conv-im2col-packed): row {@code (c·R + r)·S + s} (a filter tap), column {@code n·P·Q + p·Q + q} (an
 * output pixel of image n) holds {@code x[n][c][p·sh − pt + r·dh][q·sw − pl + s·dw]}, zero in the padding. No
 * C·R·S × P·Q matrix is materialized and the panel is written once instead of twice (im2col, then packing).
 *
 * <p>Each channel's input rows that the panel needs are copied to the heap once (an element-wise read of off-heap
 * memory costs more than the copy) and split into their column phases with the zero padding included, so every tap's
 * run is one contiguous vector copy (no clipping or lane compaction per run) — for filters of many taps per channel
 * (the 7×7 stem); 3×3 filters clip each run and compact stride-2 runs from the row copy. One instance per calling thread, set up by
 * {@link #setUp} before the product; the product's threads only read its fields (their plane copies are their own).
 */
final class Im2colPanelSource implements PackedBSource {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ThreadLocal<Im2colPanelSource> PER_THREAD = ThreadLocal.withInitial(Im2colPanelSource::new);
    /** Per packing thread: the input rows of one channel plane that a strided panel reads. */
    private static final ThreadLocal<float[][]> ROWS = ThreadLocal.withInitial(() -> new float[1][0]);
    /** Per packing thread: the run table of {@link #runTable} and its length. */
    private static final ThreadLocal<int[][]> RUNS = ThreadLocal.withInitial(() -> new int[1][0]);
    private static final ThreadLocal<int[]> RUN_COUNT = ThreadLocal.withInitial(() -> new int[1]);
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final int V = S.length();

    private ConvGeom g;
    private MemorySegment x;
    private long xGroup, imageStride;

    /** The calling thread's source for group origin {@code xGroup} (elements) of image 0, images {@code imageStride} apart. */
    static Im2colPanelSource of(ConvGeom g, MemorySegment x, long xGroup, long imageStride) {
        Im2colPanelSource src = PER_THREAD.get();
        src.g = g;
        src.x = x;
        src.xGroup = xGroup;
        src.imageStride = imageStride;
        return src;
    }

    /** Drops the reference to the input after the product. */
    void clear() { x = null; }

    @Override
    public MemorySegment memory() { return x; }

    @Override
    public void pack(int p0, int kc, int j0, int nc, int nr, float[] dst) {
        int pq = g.p() * g.q();
        int strips = (nc + nr - 1) / nr;
        int tail = nc - (strips - 1) * nr;
        if (tail < nr) {
            int last = (strips - 1) * nr * kc;
            for (int p = 0; p < kc; p++) Arrays.fill(dst, last + p * nr + tail, last + p * nr + nr, 0f);
        }
        // image by image, so that a strided channel's rows are copied once per image and reused by its R·S taps
        for (int j = j0; j < j0 + nc; ) {
            int n = j / pq;
            int end = Math.min(j0 + nc, (n + 1) * pq);
            packImage(n, j - n * pq, end - n * pq, j - j0, p0, kc, nr, dst);
            j = end;
        }
    }

    /**
     * Pixels [pix0, pix1) of image n, whose first column is column {@code col0} of the panel. The runs (pieces of one
     * output row inside one NR strip) are the same for every tap, so they are laid out once; each channel's input
     * rows are copied to the heap once and read by its R·S taps.
     */
    private void packImage(int n, int pix0, int pix1, int col0, int p0, int kc, int nr, float[] dst) {
        int q = g.q(), w = g.w(), rs = g.r() * g.s(), sw = g.sw();
        int[] runs = runTable(pix0, pix1, col0, kc, nr);
        int runCount = RUN_COUNT.get()[0];
        int oh0 = pix0 / q, oh1 = (pix1 - 1) / q;
        int rowLo = Math.max(0, oh0 * g.sh() - g.pt());
        int rowHi = Math.min(g.h() - 1, oh1 * g.sh() - g.pt() + (g.r() - 1) * g.dh());
        int nRows = Math.max(0, rowHi - rowLo + 1), rowFloats = nRows * w;
        float[] rows = rowBuffer(rowFloats + 2 * V); // 2V floats of slack: pickStride2's last loads may pass the rows
        // filters of many taps per channel: the needed rows split into their sw column phases with the zero padding
        // included, once per channel, so every tap's run is one contiguous copy; 3×3 clips each run instead (phases
        // cost more than its R·S runs per row)
        boolean phased = rs >= PHASED_TAPS;
        int lead = (g.pl() + sw - 1) / sw * sw;
        int wq = ((q - 1) * sw + (g.s() - 1) * g.dw() + lead) / sw + 1;
        float[] phases = phased ? phaseBuffer(sw * nRows * wq) : null;
        long image = xGroup + n * imageStride;
        int cachedChannel = -1;
        for (int p = 0; p < kc; p++) {
            int tap = p0 + p, c = tap / rs, r = (tap % rs) / g.s(), s = tap % g.s();
            if (c != cachedChannel) {
                long plane = image + (long) c * g.h() * w;
                if (rowFloats > 0) MemorySegment.copy(x, F, (plane + (long) rowLo * w) * 4, rows, 0, rowFloats);
                if (phased) splitPhases(rows, nRows, w, sw, lead, wq, phases, 0);
                cachedChannel = c;
            }
            int ihShift = r * g.dh() - g.pt(), iwShift = s * g.dw() - g.pl(), off = iwShift + lead;
            int phaseBase = (off % sw) * nRows * wq, shift = off / sw;
            for (int i = 0; i < runCount; i++) {
                int o = 4 * i;
                int ih = runs[o] * g.sh() + ihShift, d = runs[o + 2] + p * nr, len = runs[o + 3];
                if (ih < 0 || ih >= g.h()) Arrays.fill(dst, d, d + len, 0f);
                else if (phased) F32Copy.within(phases, phaseBase + (ih - rowLo) * wq + runs[o + 1] + shift, dst, d, len);
                else fillRun(rows, (ih - rowLo) * w, runs[o + 1] * sw + iwShift, sw, w, len, dst, d);
            }
        }
    }

    /**
     * {@code phases[p0 + (ph·nRows + row)·wq + i]} = input column {@code i·sw + ph − lead} of the row (0 outside the
     * row), for the nRows rows of {@code rows} (w floats each, then 2V floats of slack: stride 2 picks lanes of pairs
     * of vectors, {@link #pickStride2}). Also the row-vectorized weight gradient's column phases
     * ({@link F32ConvWeightGradRows}).
     */
    static void splitPhases(float[] rows, int nRows, int w, int sw, int lead, int wq, float[] phases, int p0) {
        for (int ph = 0; ph < sw; ph++)
            for (int row = 0; row < nRows; row++) {
                int d = p0 + (ph * nRows + row) * wq, src = row * w;
                // columns i with 0 <= i·sw + ph − lead < w are inside the row
                int iLo = Math.max(0, Math.floorDiv(lead - ph + sw - 1, sw)), iHi = Math.min(wq, Math.floorDiv(w - 1 + lead - ph, sw) + 1);
                if (iHi <= iLo) {
                    Arrays.fill(phases, d, d + wq, 0f);
                    continue;
                }
                Arrays.fill(phases, d, d + iLo, 0f);
                if (sw == 1) System.arraycopy(rows, src + iLo - lead, phases, d + iLo, iHi - iLo);
                else if (sw == 2) pickStride2(rows, src + iLo * 2 + ph - lead, iHi - iLo, phases, d + iLo);
                else for (int i = iLo, iw = iLo * sw + ph - lead; i < iHi; i++, iw += sw) phases[d + i] = rows[src + iw];
                Arrays.fill(phases, d + iHi, d + wq, 0f);
            }
    }

    /**
     * Lays out the runs of pixels [pix0, pix1): per run {output row, output column, offset in the panel of tap 0,
     * length}, in a per-thread array.
     */
    private int[] runTable(int pix0, int pix1, int col0, int kc, int nr) {
        int q = g.q();
        int max = (pix1 - pix0) + (pix1 - pix0) / Math.max(1, Math.min(q, nr)) + 2;
        int[] t = runBuffer(4 * max);
        int count = 0;
        int oh = pix0 / q, ow = pix0 - oh * q;
        for (int pix = pix0, col = col0; pix < pix1; ) {
            int strip = col / nr, lane = col - strip * nr;
            int len = Math.min(Math.min(q - ow, pix1 - pix), nr - lane);
            t[4 * count] = oh;
            t[4 * count + 1] = ow;
            t[4 * count + 2] = strip * nr * kc + lane;
            t[4 * count + 3] = len;
            count++;
            pix += len;
            col += len;
            ow += len;
            if (ow == q) {
                ow = 0;
                oh++;
            }
        }
        RUN_COUNT.get()[0] = count;
        return t;
    }

    /**
     * dst[d + i] = rows[base + iw0 + i·sw] for i in [0, len), zero where the input column iw0 + i·sw is outside
     * [0, w): stride 1 as one array copy, stride 2 with vector lane compaction, other strides element by element.
     */
    private static void fillRun(float[] rows, int base, int iw0, int sw, int w, int len, float[] dst, int d) {
        int a = iw0 >= 0 ? 0 : Math.min(len, (-iw0 + sw - 1) / sw);
        int firstIw = iw0 + a * sw;
        int b = firstIw >= w ? a : Math.min(len, a + (w - 1 - firstIw) / sw + 1);
        if (a > 0) Arrays.fill(dst, d, d + a, 0f);
        if (b > a) {
            if (sw == 1) System.arraycopy(rows, base + firstIw, dst, d + a, b - a);
            else if (sw == 2) pickStride2(rows, base + firstIw, b - a, dst, d + a);
            else for (int i = a, src = base + firstIw; i < b; i++, src += sw) dst[d + i] = rows[src];
        }
        if (b < len) Arrays.fill(dst, d + b, d + len, 0f);
    }

    /**
     * dst[d + i] = rows[src + 2i] for i in [0, count): the even lanes of two loads compacted, the last partial vector
     * stored under a mask (runs are one output row long, 15 or 16 floats for ResNet's 3×3/2 layers: with a scalar
     * tail every left-padded tap's run was scalar). {@code rows} has 2V floats of slack past the last row.
     */
    private static void pickStride2(float[] rows, int src, int count, float[] dst, int d) {
        int i = 0;
        FloatVector even = FloatVector.zero(S).addIndex(2);   // selectFrom indices 2j into [lo | hi]
        for (; i + V <= count; i += V) {
            FloatVector lo = FloatVector.fromArray(S, rows, src + 2 * i);
            FloatVector hi = FloatVector.fromArray(S, rows, src + 2 * i + V);
            even.selectFrom(lo, hi).intoArray(dst, d + i);
        }
        if (i < count) {
            FloatVector lo = FloatVector.fromArray(S, rows, src + 2 * i);
            FloatVector hi = FloatVector.fromArray(S, rows, src + 2 * i + V);
            even.selectFrom(lo, hi).intoArray(dst, d + i, S.indexInRange(i, count));
        }
    }

    private static int[] runBuffer(int ints) {
        int[][] holder = RUNS.get();
        if (holder[0].length < ints) holder[0] = new int[ints];
        return holder[0];
    }

    /**
     * Filters with at least this many taps per channel (5×5, the 7×7 stem) read phase-split rows (ResNet's stem at
     * batch 16: 65 → 60 ms thread CPU); 3×3 keeps clipped runs (its 3×3/2 layer went 27.5 → 30.3 ms with phases).
     */
    private static final int PHASED_TAPS = 16;

    private static final ThreadLocal<float[][]> PHASES = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] phaseBuffer(int floats) {
        float[][] holder = PHASES.get();
        if (holder[0].length < floats) holder[0] = new float[floats];
        return holder[0];
    }

    private static float[] rowBuffer(int floats) {
        float[][] holder = ROWS.get();
        if (holder[0].length < floats) holder[0] = new float[floats];
        return holder[0];
    }
}
