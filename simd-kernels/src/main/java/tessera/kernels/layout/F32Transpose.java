package tessera.kernels.layout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import tessera.memory.Workspace;

/**
 * f32-transpose: {@code dst[c·dstLd + r] = src[r·srcLd + c]} for a {@code rows × cols} float matrix, the engine of
 * the layout conversions in {@link Layouts}. Full square tiles of the vector length (16 on AVX-512, 8 on AVX2) are
 * transposed in registers with two-source lane selects (log2(L) butterfly stages); the ragged edges as partial tiles
 * (masked loads and stores around a scratch tile); without a 256-bit species, scalar loops. The tiles work on native
 * memory only: heap operands are staged through native workspace scratch.
 */
public final class F32Transpose {
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Tile edge picked from the preferred species: 16, 8, or 0 (scalar only). */
    static final int PREFERRED_TILE = tessera.kernels.Species.FLOAT.length() >= 16 ? 16
            : tessera.kernels.Species.FLOAT.length() == 8 ? 8 : 0;

    private F32Transpose() {}

    /**
     * {@code dst[c·dstLd + r] = src[r·srcLd + c]} for r &lt; rows, c &lt; cols; offsets and leading dimensions in
     * float elements; heap or native segments; the regions must not overlap. Uses {@link #PREFERRED_TILE}.
     */
    public static void transpose(MemorySegment src, long srcOff, long srcLd, MemorySegment dst, long dstOff, long dstLd,
                          int rows, int cols) {
        transpose(src, srcOff, srcLd, dst, dstOff, dstLd, rows, cols, PREFERRED_TILE);
    }

    /** Native scratch for a heap operand's block (see {@link #transpose}): its copy in, or the transpose before copy-out. */
    private static final Workspace.Slot STAGE_IN = Workspace.slot("layout.transpose.stage-in"),
            STAGE_OUT = Workspace.slot("layout.transpose.stage-out"),
            EDGE = Workspace.slot("layout.transpose.edge-tile");

    /**
     * As above with an explicit tile edge (16, 8 or 0), so tests can check every variant on any machine.
     *
     * <p>The register tiles only ever see native segments: a heap operand's block is copied through native scratch
     * (one bulk copy when its rows are contiguous). A tile method that saw heap and native segments got a bimorphic
     * profile at each of its 32 accesses, and C2 then sometimes compiled it with some lane selects left as calls to
     * their allocating Java fallback, for the life of the JVM (JFR: 35–54 GB allocated per 4 s of training).
     */
    static void transpose(MemorySegment src, long srcOff, long srcLd, MemorySegment dst, long dstOff, long dstLd,
                          int rows, int cols, int tile) {
        if (rows <= 0 || cols <= 0) return;
        if (tile == 0) {
            scalar(src, srcOff, srcLd, dst, dstOff, dstLd, 0, rows, 0, cols);
            return;
        }
        if (src.isNative() && dst.isNative()) {
            tiles(src, srcOff, srcLd, dst, dstOff, dstLd, rows, cols, tile);
            return;
        }
        Workspace ws = Workspace.ofCurrentThread();
        long n = (long) rows * cols;
        if (!src.isNative()) {
            MemorySegment in = ws.floats(STAGE_IN, n);
            copyBlock(src, srcOff, srcLd, in, 0, cols, rows, cols);
            src = in;
            srcOff = 0;
            srcLd = cols;
        }
        if (dst.isNative()) {
            tiles(src, srcOff, srcLd, dst, dstOff, dstLd, rows, cols, tile);
        } else {
            MemorySegment out = ws.floats(STAGE_OUT, n);
            tiles(src, srcOff, srcLd, out, 0, rows, rows, cols, tile);
            copyBlock(out, 0, rows, dst, dstOff, dstLd, cols, rows);
        }
    }

    /** {@code nRows} runs of {@code rowLen} floats from s (row stride sLd) to d (row stride dLd); one copy if both are dense. */
    private static void copyBlock(MemorySegment s, long sOff, long sLd, MemorySegment d, long dOff, long dLd, int nRows, int rowLen) {
        if (sLd == rowLen && dLd == rowLen) {
            MemorySegment.copy(s, sOff * 4, d, dOff * 4, (long) nRows * rowLen * 4);
            return;
        }
        for (int i = 0; i < nRows; i++) MemorySegment.copy(s, (sOff + i * sLd) * 4, d, (dOff + i * dLd) * 4, (long) rowLen * 4);
    }

    /** Full register tiles, then the ragged edges as partial tiles; native segments only. */
    private static void tiles(MemorySegment src, long srcOff, long srcLd, MemorySegment dst, long dstOff, long dstLd,
                              int rows, int cols, int tile) {
        int fullRows = rows - rows % tile;
        int fullCols = cols - cols % tile;
        long sLdB = srcLd * 4, dLdB = dstLd * 4;
        for (int r0 = 0; r0 < fullRows; r0 += tile) {
            for (int c0 = 0; c0 < fullCols; c0 += tile) {
                long s = (srcOff + r0 * srcLd + c0) * 4, d = (dstOff + c0 * dstLd + r0) * 4;
                if (tile == 16) tile16(src, s, sLdB, dst, d, dLdB);
                else tile8(src, s, sLdB, dst, d, dLdB);
            }
        }
        // ragged edges as partial tiles through a small scratch tile (a 14- or 7-wide map is all edge: scalar copies
        // were a fifth of a Winograd convolution's time on 14×14 and 56×56 maps)
        if (fullCols == cols && fullRows == rows) return;
        MemorySegment edge = Workspace.ofCurrentThread().floats(EDGE, 512);
        for (int r0 = 0; r0 < fullRows; r0 += tile)
            if (fullCols < cols) edgeTile(src, srcOff, srcLd, dst, dstOff, dstLd, r0, fullCols, tile, cols - fullCols, tile, edge);
        for (int c0 = 0; c0 < cols; c0 += tile)
            if (fullRows < rows) edgeTile(src, srcOff, srcLd, dst, dstOff, dstLd, fullRows, c0, rows - fullRows,
                    Math.min(tile, cols - c0), tile, edge);
    }

    /**
     * Rows [r0, r0 + nRows) × columns [c0, c0 + nCols) (each ≤ tile): masked row loads into the scratch tile (floats
     * 0..255; its transpose at 256..511), the register transpose, masked stores of the nCols destination rows. Lanes
     * outside the block are never read from src nor written to dst.
     */
    private static void edgeTile(MemorySegment src, long srcOff, long srcLd, MemorySegment dst, long dstOff, long dstLd,
                                 int r0, int c0, int nRows, int nCols, int tile, MemorySegment e) {
        VectorSpecies<Float> sp = tile == 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
        VectorMask<Float> cm = sp.indexInRange(0, nCols), rm = sp.indexInRange(0, nRows);
        long rowBytes = 4L * tile, out = 256 * 4;
        for (int i = 0; i < nRows; i++)
            FloatVector.fromMemorySegment(sp, src, (srcOff + (r0 + i) * srcLd + c0) * 4, NATIVE, cm).intoMemorySegment(e, i * rowBytes, NATIVE);
        if (tile == 16) tile16(e, 0, rowBytes, e, out, rowBytes);
        else tile8(e, 0, rowBytes, e, out, rowBytes);
        for (int k = 0; k < nCols; k++)
            FloatVector.fromMemorySegment(sp, e, out + k * rowBytes, NATIVE).intoMemorySegment(dst, (dstOff + (c0 + k) * dstLd + r0) * 4, NATIVE, rm);
    }

    /** Plain loops over rows [r0, r1) and columns [c0, c1), walking the destination sequentially. */
    private static void scalar(MemorySegment src, long srcOff, long srcLd, MemorySegment dst, long dstOff, long dstLd,
                               int r0, int r1, int c0, int c1) {
        for (int c = c0; c < c1; c++) {
            long d = dstOff + c * dstLd, s = srcOff + c;
            for (int r = r0; r < r1; r++) {
                dst.setAtIndex(F, d + r, src.getAtIndex(F, s + r * srcLd));
            }
        }
    }

    private static final float[] LO16_8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    private static final float[] HI16_8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    private static final float[] LO16_4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
    private static final float[] HI16_4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
    private static final float[] LO16_2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
    private static final float[] HI16_2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
    private static final float[] LO16_1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
    private static final float[] HI16_1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
    private static final float[] LO8_4 = {0, 1, 2, 3, 8, 9, 10, 11};
    private static final float[] HI8_4 = {4, 5, 6, 7, 12, 13, 14, 15};
    private static final float[] LO8_2 = {0, 1, 8, 9, 4, 5, 12, 13};
    private static final float[] HI8_2 = {2, 3, 10, 11, 6, 7, 14, 15};
    private static final float[] LO8_1 = {0, 8, 2, 10, 4, 12, 6, 14};
    private static final float[] HI8_1 = {1, 9, 3, 11, 5, 13, 7, 15};

    /** Transposes one 16×16 float tile: dst row k = src column k (byte offsets and row strides). */
    private static void tile16(MemorySegment src, long s, long sLd, MemorySegment dst, long d, long dLd) {
        VectorSpecies<Float> sp = FloatVector.SPECIES_512;
        FloatVector r0 = FloatVector.fromMemorySegment(sp, src, s + 0 * sLd, NATIVE);
        FloatVector r1 = FloatVector.fromMemorySegment(sp, src, s + 1 * sLd, NATIVE);
        FloatVector r2 = FloatVector.fromMemorySegment(sp, src, s + 2 * sLd, NATIVE);
        FloatVector r3 = FloatVector.fromMemorySegment(sp, src, s + 3 * sLd, NATIVE);
        FloatVector r4 = FloatVector.fromMemorySegment(sp, src, s + 4 * sLd, NATIVE);
        FloatVector r5 = FloatVector.fromMemorySegment(sp, src, s + 5 * sLd, NATIVE);
        FloatVector r6 = FloatVector.fromMemorySegment(sp, src, s + 6 * sLd, NATIVE);
        FloatVector r7 = FloatVector.fromMemorySegment(sp, src, s + 7 * sLd, NATIVE);
        FloatVector r8 = FloatVector.fromMemorySegment(sp, src, s + 8 * sLd, NATIVE);
        FloatVector r9 = FloatVector.fromMemorySegment(sp, src, s + 9 * sLd, NATIVE);
        FloatVector r10 = FloatVector.fromMemorySegment(sp, src, s + 10 * sLd, NATIVE);
        FloatVector r11 = FloatVector.fromMemorySegment(sp, src, s + 11 * sLd, NATIVE);
        FloatVector r12 = FloatVector.fromMemorySegment(sp, src, s + 12 * sLd, NATIVE);
        FloatVector r13 = FloatVector.fromMemorySegment(sp, src, s + 13 * sLd, NATIVE);
        FloatVector r14 = FloatVector.fromMemorySegment(sp, src, s + 14 * sLd, NATIVE);
        FloatVector r15 = FloatVector.fromMemorySegment(sp, src, s + 15 * sLd, NATIVE);
        FloatVector lo8 = FloatVector.fromArray(sp, LO16_8, 0), hi8 = FloatVector.fromArray(sp, HI16_8, 0);
        FloatVector a0 = lo8.selectFrom(r0, r8), a8 = hi8.selectFrom(r0, r8);
        FloatVector a1 = lo8.selectFrom(r1, r9), a9 = hi8.selectFrom(r1, r9);
        FloatVector a2 = lo8.selectFrom(r2, r10), a10 = hi8.selectFrom(r2, r10);
        FloatVector a3 = lo8.selectFrom(r3, r11), a11 = hi8.selectFrom(r3, r11);
        FloatVector a4 = lo8.selectFrom(r4, r12), a12 = hi8.selectFrom(r4, r12);
        FloatVector a5 = lo8.selectFrom(r5, r13), a13 = hi8.selectFrom(r5, r13);
        FloatVector a6 = lo8.selectFrom(r6, r14), a14 = hi8.selectFrom(r6, r14);
        FloatVector a7 = lo8.selectFrom(r7, r15), a15 = hi8.selectFrom(r7, r15);
        FloatVector lo4 = FloatVector.fromArray(sp, LO16_4, 0), hi4 = FloatVector.fromArray(sp, HI16_4, 0);
        FloatVector b0 = lo4.selectFrom(a0, a4), b4 = hi4.selectFrom(a0, a4);
        FloatVector b1 = lo4.selectFrom(a1, a5), b5 = hi4.selectFrom(a1, a5);
        FloatVector b2 = lo4.selectFrom(a2, a6), b6 = hi4.selectFrom(a2, a6);
        FloatVector b3 = lo4.selectFrom(a3, a7), b7 = hi4.selectFrom(a3, a7);
        FloatVector b8 = lo4.selectFrom(a8, a12), b12 = hi4.selectFrom(a8, a12);
        FloatVector b9 = lo4.selectFrom(a9, a13), b13 = hi4.selectFrom(a9, a13);
        FloatVector b10 = lo4.selectFrom(a10, a14), b14 = hi4.selectFrom(a10, a14);
        FloatVector b11 = lo4.selectFrom(a11, a15), b15 = hi4.selectFrom(a11, a15);
        FloatVector lo2 = FloatVector.fromArray(sp, LO16_2, 0), hi2 = FloatVector.fromArray(sp, HI16_2, 0);
        FloatVector c0 = lo2.selectFrom(b0, b2), c2 = hi2.selectFrom(b0, b2);
        FloatVector c1 = lo2.selectFrom(b1, b3), c3 = hi2.selectFrom(b1, b3);
        FloatVector c4 = lo2.selectFrom(b4, b6), c6 = hi2.selectFrom(b4, b6);
        FloatVector c5 = lo2.selectFrom(b5, b7), c7 = hi2.selectFrom(b5, b7);
        FloatVector c8 = lo2.selectFrom(b8, b10), c10 = hi2.selectFrom(b8, b10);
        FloatVector c9 = lo2.selectFrom(b9, b11), c11 = hi2.selectFrom(b9, b11);
        FloatVector c12 = lo2.selectFrom(b12, b14), c14 = hi2.selectFrom(b12, b14);
        FloatVector c13 = lo2.selectFrom(b13, b15), c15 = hi2.selectFrom(b13, b15);
        FloatVector lo1 = FloatVector.fromArray(sp, LO16_1, 0), hi1 = FloatVector.fromArray(sp, HI16_1, 0);
        FloatVector e0 = lo1.selectFrom(c0, c1), e1 = hi1.selectFrom(c0, c1);
        FloatVector e2 = lo1.selectFrom(c2, c3), e3 = hi1.selectFrom(c2, c3);
        FloatVector e4 = lo1.selectFrom(c4, c5), e5 = hi1.selectFrom(c4, c5);
        FloatVector e6 = lo1.selectFrom(c6, c7), e7 = hi1.selectFrom(c6, c7);
        FloatVector e8 = lo1.selectFrom(c8, c9), e9 = hi1.selectFrom(c8, c9);
        FloatVector e10 = lo1.selectFrom(c10, c11), e11 = hi1.selectFrom(c10, c11);
        FloatVector e12 = lo1.selectFrom(c12, c13), e13 = hi1.selectFrom(c12, c13);
        FloatVector e14 = lo1.selectFrom(c14, c15), e15 = hi1.selectFrom(c14, c15);
        e0.intoMemorySegment(dst, d + 0 * dLd, NATIVE);
        e1.intoMemorySegment(dst, d + 1 * dLd, NATIVE);
        e2.intoMemorySegment(dst, d + 2 * dLd, NATIVE);
        e3.intoMemorySegment(dst, d + 3 * dLd, NATIVE);
        e4.intoMemorySegment(dst, d + 4 * dLd, NATIVE);
        e5.intoMemorySegment(dst, d + 5 * dLd, NATIVE);
        e6.intoMemorySegment(dst, d + 6 * dLd, NATIVE);
        e7.intoMemorySegment(dst, d + 7 * dLd, NATIVE);
        e8.intoMemorySegment(dst, d + 8 * dLd, NATIVE);
        e9.intoMemorySegment(dst, d + 9 * dLd, NATIVE);
        e10.intoMemorySegment(dst, d + 10 * dLd, NATIVE);
        e11.intoMemorySegment(dst, d + 11 * dLd, NATIVE);
        e12.intoMemorySegment(dst, d + 12 * dLd, NATIVE);
        e13.intoMemorySegment(dst, d + 13 * dLd, NATIVE);
        e14.intoMemorySegment(dst, d + 14 * dLd, NATIVE);
        e15.intoMemorySegment(dst, d + 15 * dLd, NATIVE);
    }

    /** Transposes one 8×8 float tile: dst row k = src column k (byte offsets and row strides). */
    private static void tile8(MemorySegment src, long s, long sLd, MemorySegment dst, long d, long dLd) {
        VectorSpecies<Float> sp = FloatVector.SPECIES_256;
        FloatVector r0 = FloatVector.fromMemorySegment(sp, src, s + 0 * sLd, NATIVE);
        FloatVector r1 = FloatVector.fromMemorySegment(sp, src, s + 1 * sLd, NATIVE);
        FloatVector r2 = FloatVector.fromMemorySegment(sp, src, s + 2 * sLd, NATIVE);
        FloatVector r3 = FloatVector.fromMemorySegment(sp, src, s + 3 * sLd, NATIVE);
        FloatVector r4 = FloatVector.fromMemorySegment(sp, src, s + 4 * sLd, NATIVE);
        FloatVector r5 = FloatVector.fromMemorySegment(sp, src, s + 5 * sLd, NATIVE);
        FloatVector r6 = FloatVector.fromMemorySegment(sp, src, s + 6 * sLd, NATIVE);
        FloatVector r7 = FloatVector.fromMemorySegment(sp, src, s + 7 * sLd, NATIVE);
        FloatVector lo4 = FloatVector.fromArray(sp, LO8_4, 0), hi4 = FloatVector.fromArray(sp, HI8_4, 0);
        FloatVector a0 = lo4.selectFrom(r0, r4), a4 = hi4.selectFrom(r0, r4);
        FloatVector a1 = lo4.selectFrom(r1, r5), a5 = hi4.selectFrom(r1, r5);
        FloatVector a2 = lo4.selectFrom(r2, r6), a6 = hi4.selectFrom(r2, r6);
        FloatVector a3 = lo4.selectFrom(r3, r7), a7 = hi4.selectFrom(r3, r7);
        FloatVector lo2 = FloatVector.fromArray(sp, LO8_2, 0), hi2 = FloatVector.fromArray(sp, HI8_2, 0);
        FloatVector b0 = lo2.selectFrom(a0, a2), b2 = hi2.selectFrom(a0, a2);
        FloatVector b1 = lo2.selectFrom(a1, a3), b3 = hi2.selectFrom(a1, a3);
        FloatVector b4 = lo2.selectFrom(a4, a6), b6 = hi2.selectFrom(a4, a6);
        FloatVector b5 = lo2.selectFrom(a5, a7), b7 = hi2.selectFrom(a5, a7);
        FloatVector lo1 = FloatVector.fromArray(sp, LO8_1, 0), hi1 = FloatVector.fromArray(sp, HI8_1, 0);
        FloatVector c0 = lo1.selectFrom(b0, b1), c1 = hi1.selectFrom(b0, b1);
        FloatVector c2 = lo1.selectFrom(b2, b3), c3 = hi1.selectFrom(b2, b3);
        FloatVector c4 = lo1.selectFrom(b4, b5), c5 = hi1.selectFrom(b4, b5);
        FloatVector c6 = lo1.selectFrom(b6, b7), c7 = hi1.selectFrom(b6, b7);
        c0.intoMemorySegment(dst, d + 0 * dLd, NATIVE);
        c1.intoMemorySegment(dst, d + 1 * dLd, NATIVE);
        c2.intoMemorySegment(dst, d + 2 * dLd, NATIVE);
        c3.intoMemorySegment(dst, d + 3 * dLd, NATIVE);
        c4.intoMemorySegment(dst, d + 4 * dLd, NATIVE);
        c5.intoMemorySegment(dst, d + 5 * dLd, NATIVE);
        c6.intoMemorySegment(dst, d + 6 * dLd, NATIVE);
        c7.intoMemorySegment(dst, d + 7 * dLd, NATIVE);
    }
}
