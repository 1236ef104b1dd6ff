package tessera.kernels.layout;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.memory.Workspace;

/**
 * f32-plane-rows: a band of rows of channel planes (NCHW) ↔ channel-last pixel rows, for the convolutions that work
 * channel-last on a padded buffer (Winograd, the channel-last weight gradient).
 *
 * <p>Why bands and not one call per row: one row of 32 planes is 32 runs of 128 B each 4 KiB apart, and on activations
 * that are no longer in cache the hardware prefetcher does not follow such short runs; a band of rows makes each
 * plane's run band·width floats long. Transposing the 16 images of a 32-channel 32×32 batch from memory took 400–590 µs
 * one row per call and 180 µs in bands of 16 rows (64 channels at 56×56: 2.6 ms and 1.2 ms; AVX-512, Zen 4).
 * A band is at most {@link #STAGE_FLOATS} floats of channel-last pixels, so that it is still in L1 when it is copied
 * into place (with 128 KiB bands the Winograd forward of a 32→32 layer at 32×32 took 2.2 ms instead of 1.9).
 */
public final class F32PlaneRows {
    private static final VectorSpecies<Float> SP = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    /** Channel-last floats per band (32 KiB). */
    static final int STAGE_FLOATS = 8 * 1024;

    private static final Workspace.Slot STAGE = Workspace.slot("layout.plane-rows.stage");

    private F32PlaneRows() {}

    /**
     * {@code dst[dstOff + i·dstRowLd + x·dstLd + c] = src[srcOff + c·planeLd + i·srcRowLd + x]} for channel
     * c &lt; channels, row i &lt; rows, column x &lt; cols, and lanes c in [channels, dstLd) of every written pixel set
     * to zero. Offsets and strides in floats; heap or native segments; the regions must not overlap. Nothing outside
     * the written pixels changes (a padded buffer's border columns are the caller's).
     */
    public static void toChannelLast(MemorySegment src, long srcOff, long planeLd, long srcRowLd, int channels,
                                     int rows, int cols, MemorySegment dst, long dstOff, long dstRowLd, int dstLd) {
        toChannelLast(src, srcOff, planeLd, srcRowLd, channels, rows, cols, dst, dstOff, dstRowLd, dstLd, STAGE_FLOATS);
    }

    /** {@link #toChannelLast} in bands of at most {@code stageFloats} channel-last floats (tests take small bands). */
    static void toChannelLast(MemorySegment src, long srcOff, long planeLd, long srcRowLd, int channels, int rows,
                              int cols, MemorySegment dst, long dstOff, long dstRowLd, int dstLd, int stageFloats) {
        if (rows <= 0 || cols <= 0) return;
        if (srcRowLd != cols) { // rows not contiguous in the planes: one transpose per row
            for (int i = 0; i < rows; i++)
                toChannelLast(src, srcOff + i * srcRowLd, planeLd, cols, channels, 1, cols, dst, dstOff + i * dstRowLd,
                        dstRowLd, dstLd, stageFloats);
            return;
        }
        long rowFloats = (long) cols * dstLd;
        boolean denseDst = dstRowLd == rowFloats;
        if (dst.isNative() && denseDst && dstLd == channels) {
            int band = bandRows(rowFloats, rows, stageFloats);
            for (int i0 = 0; i0 < rows; i0 += band)
                F32Transpose.transpose(src, srcOff + (long) i0 * cols, planeLd, dst, dstOff + i0 * rowFloats, dstLd,
                        channels, Math.min(band, rows - i0) * cols);
            return;
        }
        int band = bandRows(rowFloats, rows, stageFloats);
        MemorySegment stage = Workspace.ofCurrentThread().floats(STAGE, band * rowFloats);
        for (int i0 = 0; i0 < rows; i0 += band) {
            int nr = Math.min(band, rows - i0);
            if (dstLd > channels) zero(stage, nr * rowFloats);
            F32Transpose.transpose(src, srcOff + (long) i0 * cols, planeLd, stage, 0, dstLd, channels, nr * cols);
            if (denseDst) {
                MemorySegment.copy(stage, 0, dst, 4 * (dstOff + i0 * rowFloats), 4 * nr * rowFloats);
            } else {
                for (int i = 0; i < nr; i++)
                    MemorySegment.copy(stage, 4 * i * rowFloats, dst, 4 * (dstOff + (i0 + i) * dstRowLd), 4 * rowFloats);
            }
        }
    }

    /**
     * The inverse layout: {@code dst[dstOff + c·planeLd + i·dstRowLd + x] = src[srcOff + i·srcRowLd + x·srcLd + c]}
     * for channel c &lt; channels, row i &lt; rows, column x &lt; cols. Offsets and strides in floats; heap or native
     * segments; the regions must not overlap.
     */
    public static void fromChannelLast(MemorySegment src, long srcOff, long srcRowLd, int srcLd, int channels, int rows,
                                       int cols, MemorySegment dst, long dstOff, long planeLd, long dstRowLd) {
        fromChannelLast(src, srcOff, srcRowLd, srcLd, channels, rows, cols, dst, dstOff, planeLd, dstRowLd, STAGE_FLOATS);
    }

    /** {@link #fromChannelLast} in bands of at most {@code stageFloats} channel-last floats (tests take small bands). */
    static void fromChannelLast(MemorySegment src, long srcOff, long srcRowLd, int srcLd, int channels, int rows, int cols,
                                MemorySegment dst, long dstOff, long planeLd, long dstRowLd, int stageFloats) {
        if (rows <= 0 || cols <= 0) return;
        long rowFloats = (long) cols * srcLd;
        if (srcRowLd != rowFloats || dstRowLd != cols) { // rows not contiguous on one side: one transpose per row
            for (int i = 0; i < rows; i++)
                F32Transpose.transpose(src, srcOff + i * srcRowLd, srcLd, dst, dstOff + i * dstRowLd, planeLd, cols,
                        channels);
            return;
        }
        int band = bandRows(rowFloats, rows, stageFloats);
        for (int i0 = 0; i0 < rows; i0 += band)
            F32Transpose.transpose(src, srcOff + i0 * rowFloats, srcLd, dst, dstOff + (long) i0 * cols, planeLd,
                    Math.min(band, rows - i0) * cols, channels);
    }

    /** Rows per band: as many as fit {@code stageFloats} channel-last floats, at least one. */
    private static int bandRows(long rowFloats, int rows, int stageFloats) {
        return (int) Math.max(1, Math.min(rows, stageFloats / rowFloats));
    }

    private static void zero(MemorySegment s, long len) {
        FloatVector z = FloatVector.zero(SP);
        long i = 0;
        for (; i <= len - SP.length(); i += SP.length()) z.intoMemorySegment(s, i * 4, NO);
        for (; i < len; i++) s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0f);
    }
}
