package tessera.kernels.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.memory.TensorArena;

/**
 * {@link F32PlaneRows} against its index formulas, for heap and native operands, rows that are and are not contiguous
 * in the planes, padded and unpadded pixels, and bands from one row to all of them: every written float is the
 * source's, padding lanes are zero, and nothing else in the destination changes. The seed's low 7 bits pick the
 * variant (row gaps, lane padding, heap or native, band size).
 */
class F32PlaneRowsPropertiesTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final float UNTOUCHED = -7f;

    @Test
    void planeRowsToChannelLastFollowTheFormula() {
        qt().withExamples(150).forAll(integers().between(1, 40), integers().between(1, 9), integers().between(1, 40), longs().all())
                .checkAssert((channels, rows, cols, seed) -> {
                    Variant v = new Variant(seed);
                    int rowGap = v.rowGap, lanePad = v.lanePad, dstGap = v.dstGap, kinds = v.kinds, stage = v.stage;
                    long srcRowLd = cols + rowGap, planeLd = rows * srcRowLd + 2;
                    int dstLd = channels + lanePad;
                    long dstRowLd = (long) cols * dstLd + dstGap * 5;
                    try (TensorArena arena = new TensorArena()) {
                        MemorySegment src = filled(arena, (kinds & 1) == 0, 3 + channels * planeLd, seed);
                        long dstFloats = 1 + rows * dstRowLd + 4;
                        MemorySegment dst = filled(arena, (kinds & 2) == 0, dstFloats, 0);
                        F32PlaneRows.toChannelLast(src, 3, planeLd, srcRowLd, channels, rows, cols, dst, 1, dstRowLd,
                                dstLd, stage);
                        String what = "channels " + channels + " rows " + rows + " cols " + cols + " srcRowLd " + srcRowLd
                                + " dstLd " + dstLd + " dstRowLd " + dstRowLd + " stage " + stage + " kinds " + kinds;
                        boolean[] written = new boolean[(int) dstFloats];
                        for (int i = 0; i < rows; i++)
                            for (int x = 0; x < cols; x++)
                                for (int c = 0; c < dstLd; c++) {
                                    long d = 1 + i * dstRowLd + (long) x * dstLd + c;
                                    float want = c < channels ? src.getAtIndex(F, 3 + c * planeLd + i * srcRowLd + x) : 0f;
                                    assertEquals(want, dst.getAtIndex(F, d), what + " at row " + i + " col " + x + " lane " + c);
                                    written[(int) d] = true;
                                }
                        assertRestUntouched(dst, written, what);
                    }
                });
    }

    @Test
    void channelLastToPlaneRowsFollowTheFormula() {
        qt().withExamples(150).forAll(integers().between(1, 40), integers().between(1, 9), integers().between(1, 40), longs().all())
                .checkAssert((channels, rows, cols, seed) -> {
                    Variant v = new Variant(seed);
                    int rowGap = v.rowGap, lanePad = v.lanePad, dstGap = v.dstGap, kinds = v.kinds, stage = v.stage;
                    int srcLd = channels + lanePad;
                    long srcRowLd = (long) cols * srcLd + rowGap * 3, dstRowLd = cols + dstGap, planeLd = rows * dstRowLd + 2;
                    try (TensorArena arena = new TensorArena()) {
                        MemorySegment src = filled(arena, (kinds & 1) == 0, 3 + rows * srcRowLd, seed);
                        long dstFloats = 1 + channels * planeLd + 4;
                        MemorySegment dst = filled(arena, (kinds & 2) == 0, dstFloats, 0);
                        F32PlaneRows.fromChannelLast(src, 3, srcRowLd, srcLd, channels, rows, cols, dst, 1, planeLd,
                                dstRowLd, stage);
                        String what = "channels " + channels + " rows " + rows + " cols " + cols + " srcLd " + srcLd
                                + " srcRowLd " + srcRowLd + " dstRowLd " + dstRowLd + " stage " + stage + " kinds " + kinds;
                        boolean[] written = new boolean[(int) dstFloats];
                        for (int c = 0; c < channels; c++)
                            for (int i = 0; i < rows; i++)
                                for (int x = 0; x < cols; x++) {
                                    long d = 1 + c * planeLd + i * dstRowLd + x;
                                    assertEquals(src.getAtIndex(F, 3 + i * srcRowLd + (long) x * srcLd + c), dst.getAtIndex(F, d),
                                            what + " at channel " + c + " row " + i + " col " + x);
                                    written[(int) d] = true;
                                }
                        assertRestUntouched(dst, written, what);
                    }
                });
    }

    /** The layout variant a seed picks with its low 7 bits: row gaps, lane padding, heap or native operands, band size. */
    private record Variant(int rowGap, int lanePad, int dstGap, int kinds, int stage) {
        Variant(long seed) {
            this((int) seed & 1, (int) (seed >> 1) & 3, (int) (seed >> 3) & 1, (int) (seed >> 4) & 3,
                    ((seed >> 6) & 1) == 0 ? F32PlaneRows.STAGE_FLOATS : 1 + (int) ((seed >>> 40) % 600));
        }
    }

    /** Every float of dst not marked written still holds {@link #UNTOUCHED}. */
    private static void assertRestUntouched(MemorySegment dst, boolean[] written, String what) {
        for (int d = 0; d < written.length; d++)
            if (!written[d]) assertEquals(UNTOUCHED, dst.getAtIndex(F, d), what + " wrote float " + d);
    }

    /** {@code floats} floats, native or heap: random values from {@code seed}, or all {@link #UNTOUCHED} if it is 0. */
    private static MemorySegment filled(TensorArena arena, boolean nativeMemory, long floats, long seed) {
        MemorySegment s = nativeMemory ? arena.allocateBytes(4 * floats) : MemorySegment.ofArray(new float[(int) floats]);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(F, i, seed == 0 ? UNTOUCHED : (float) r.nextDouble());
        return s;
    }
}
