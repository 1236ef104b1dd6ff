package tessera.kernels.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import tessera.memory.*;

/** Layout conversions: exact round trips, agreement with the index formula, zero padding, fast = reference. */
class LayoutsPropertiesTest {

    private static final int[] BLOCKS = {Layouts.preferredBlock(), 16, 8, 3, 1};

    @Test
    void blockedRoundTripIsExactAndMatchesTheIndexFormula() {
        qt().withExamples(150)
                .forAll(integers().between(1, 3), integers().between(1, 40), integers().between(1, 9), integers().between(1, 21))
                .checkAssert((n, c, h, w) -> {
                    for (DType type : new DType[] {DType.F32, DType.F64}) {
                        for (int block : BLOCKS) {
                            checkBlocked(type, block, n, c, h, w, 31L * n + 7 * c + h * 3L + w);
                        }
                    }
                });
    }

    private static void checkBlocked(DType type, int block, int n, int c, int h, int w, long seed) {
        try (TensorArena arena = new TensorArena()) {
            Tensor x = RandomFill.uniform(arena.allocate(type, n, c, h, w), seed, -1, 1);
            Tensor b = arena.allocate(type, Layouts.blockedShape(n, c, h, w, block));
            b.fill(Double.NaN); // the conversion must overwrite everything, padding included
            Layouts.nchwToBlocked(x, b);
            int cb = (c + block - 1) / block;
            assertArrayEquals(new int[] {n, cb, h, w, block}, b.shape());
            for (int i = 0; i < n; i++)
                for (int k = 0; k < cb; k++)
                    for (int y = 0; y < h; y++)
                        for (int xx = 0; xx < w; xx++)
                            for (int j = 0; j < block; j++) {
                                int ch = k * block + j;
                                double want = ch < c ? x.getDouble(i, ch, y, xx) : 0.0;
                                assertEquals(want, b.getDouble(i, k, y, xx, j), "blocked[" + i + "," + k + "," + y + "," + xx + "," + j + "]");
                            }
            Tensor back = Layouts.blockedToNchw(b, c, arena);
            assertEquals(Layout.NCHW, back.layout());
            assertArrayEquals(x.toDoubleArray(), back.toDoubleArray(), () -> type + " block " + block + " round trip");
        }
    }

    @Test
    void nhwcRoundTripIsExactAndEqualsPermute() {
        qt().withExamples(150)
                .forAll(integers().between(1, 3), integers().between(1, 40), integers().between(1, 9), integers().between(1, 21))
                .checkAssert((n, c, h, w) -> {
                    for (DType type : new DType[] {DType.F32, DType.F64}) {
                        try (TensorArena arena = new TensorArena()) {
                            Tensor x = RandomFill.normal(arena.allocate(type, n, c, h, w), n * 1000L + c, 0, 1);
                            Tensor nhwc = Layouts.nchwToNhwc(x, arena);
                            assertEquals(Layout.NHWC, nhwc.layout());
                            assertArrayEquals(x.permute(0, 2, 3, 1).toDoubleArray(), nhwc.toDoubleArray());
                            Tensor back = arena.allocate(type, n, c, h, w);
                            back.fill(Double.NaN);
                            Layouts.nhwcToNchw(nhwc, back);
                            assertArrayEquals(x.toDoubleArray(), back.toDoubleArray());
                        }
                    }
                });
    }

    @Test
    void stridedSourcesTakeTheReferencePathWithTheSameResult() {
        qt().withExamples(60)
                .forAll(integers().between(1, 2), integers().between(1, 35), integers().between(1, 6), integers().between(2, 20))
                .checkAssert((n, c, h, w) -> {
                    try (TensorArena arena = new TensorArena()) {
                        Tensor wide = RandomFill.uniform(arena.allocate(DType.F32, n, c, h, w + 3), c, -2, 2);
                        Tensor view = wide.narrow(3, 1, w); // non-contiguous
                        Tensor dense = view.copy(arena);
                        assertArrayEquals(Layouts.nchwToBlocked(dense, arena).toDoubleArray(), Layouts.nchwToBlocked(view, arena).toDoubleArray());
                        assertArrayEquals(Layouts.nchwToNhwc(dense, arena).toDoubleArray(), Layouts.nchwToNhwc(view, arena).toDoubleArray());
                    }
                });
    }

    /**
     * Every F32Copy form copies exactly the run: equal floats inside it, nothing changed around it (masked tails), also
     * when the run ends exactly at the end of the source or the destination (tails copied element by element there).
     */
    @Test
    void shortRunCopiesTouchOnlyTheRun() {
        qt().withExamples(300).forAll(integers().between(0, 200), integers().between(0, 40), integers().between(0, 40), longs().all())
                .checkAssert((n, from, to, seed) -> {
                    int srcLen = from + n + ((seed & 1) == 0 ? 0 : 40), len = to + n + ((seed & 2) == 0 ? 0 : 40);
                    float[] src = new float[srcLen];
                    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
                    for (int i = 0; i < srcLen; i++) src[i] = (float) r.nextDouble() + 1f;
                    MemorySegment srcSeg = MemorySegment.ofArray(src);
                    float[] a = new float[len], c = new float[len];
                    MemorySegment b = MemorySegment.ofArray(new float[len]);
                    F32Copy.toArray(srcSeg, from * 4L, a, to, n);
                    F32Copy.toSegment(srcSeg, from * 4L, b, to * 4L, n);
                    F32Copy.within(src, from, c, to, n);
                    for (int i = 0; i < len; i++) {
                        float want = i >= to && i < to + n ? src[from + i - to] : 0f;
                        assertEquals(want, a[i], "toArray element " + i + " (n " + n + ", from " + from + ", to " + to + ")");
                        assertEquals(want, b.getAtIndex(ValueLayout.JAVA_FLOAT, i), "toSegment element " + i);
                        assertEquals(want, c[i], "within element " + i);
                    }
                });
    }

    /** Every tile edge, with native and heap (staged) sources and destinations, against plain loops. */
    @Test
    void everyTransposeTileAgreesWithPlainLoops() {
        qt().withExamples(200).forAll(integers().between(1, 70), integers().between(1, 70), integers().between(0, 5), longs().all())
                .checkAssert((rows, cols, pad, seed) -> {
                    try (TensorArena arena = new TensorArena()) {
                        long srcLd = cols + pad, dstLd = rows + pad;
                        MemorySegment nativeSrc = arena.allocateBytes(4L * (rows * srcLd + 3));
                        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
                        for (long i = 0; i < nativeSrc.byteSize() / 4; i++) nativeSrc.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble());
                        MemorySegment heapSrc = MemorySegment.ofArray(new float[(int) (nativeSrc.byteSize() / 4)]).copyFrom(nativeSrc);
                        float[] want = null;
                        for (int tile : new int[] {0, 8, 16})
                            for (int kinds = 0; kinds < 4; kinds++) {
                                MemorySegment src = (kinds & 1) == 0 ? nativeSrc : heapSrc;
                                long dstBytes = 4L * (cols * dstLd + 3);
                                MemorySegment dst = (kinds & 2) == 0 ? arena.allocateBytes(dstBytes) : MemorySegment.ofArray(new float[(int) (dstBytes / 4)]);
                                String what = "tile " + tile + ", " + ((kinds & 1) == 0 ? "native" : "heap") + " to "
                                        + ((kinds & 2) == 0 ? "native" : "heap");
                                F32Transpose.transpose(src, 3, srcLd, dst, 1, dstLd, rows, cols, tile);
                                float[] got = new float[rows * cols];
                                for (int cc = 0; cc < cols; cc++)
                                    for (int rr = 0; rr < rows; rr++) {
                                        got[cc * rows + rr] = dst.getAtIndex(ValueLayout.JAVA_FLOAT, 1 + cc * dstLd + rr);
                                        assertEquals(src.getAtIndex(ValueLayout.JAVA_FLOAT, 3 + rr * srcLd + cc), got[cc * rows + rr], what);
                                    }
                                if (want != null) assertArrayEquals(want, got, what);
                                want = got;
                                assertEquals(0f, dst.getAtIndex(ValueLayout.JAVA_FLOAT, 0), what + " wrote before the destination");
                                for (int cc = 0; cc < cols; cc++) // the padding between destination rows is never written
                                    for (long rr = rows; rr < dstLd; rr++)
                                        assertEquals(0f, dst.getAtIndex(ValueLayout.JAVA_FLOAT, 1 + cc * dstLd + rr), what + " wrote padding");
                            }
                    }
                });
    }

    @Test
    void defaultBlockIsThePreferredFloatLaneCount() {
        assertEquals(tessera.kernels.Species.FLOAT.length(), Layouts.preferredBlock());
        try (TensorArena arena = new TensorArena()) {
            Tensor x = arena.allocate(DType.F32, 2, 5, 3, 3);
            Tensor b = Layouts.nchwToBlocked(x, arena);
            int blk = Layouts.preferredBlock();
            assertArrayEquals(new int[] {2, (5 + blk - 1) / blk, 3, 3, blk}, b.shape()); // 2 blocks on 128-bit (NEON) species
            assertSame(Layout.NCHW_BLOCKED, b.layout());
        }
    }

    @Test
    void mismatchedShapesAndDtypesAreRejected() {
        try (TensorArena arena = new TensorArena()) {
            Tensor x = arena.allocate(DType.F32, 1, 5, 2, 2);
            assertMessage(() -> Layouts.nchwToBlocked(x, arena.allocate(DType.F32, 1, 1, 2, 2, 4)),
                    "[1, 1, 2, 2, 4]", "expected dst [1, 2, 2, 2, 4]");
            assertMessage(() -> Layouts.nchwToBlocked(x, arena.allocate(DType.F64, 1, 2, 2, 2, 4)), "dtype");
            assertMessage(() -> Layouts.nchwToNhwc(arena.allocate(DType.F32, 5, 2), arena), "rank 4");
            assertMessage(() -> Layouts.blockedToNchw(arena.allocate(DType.F32, 1, 1, 2, 2, 4), 5, arena),
                    "expected src [1, 2, 2, 2, 4]");
            assertMessage(() -> Layouts.nchwToBlocked(x, 0, arena), "block 0");
        }
    }

    static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }
}
