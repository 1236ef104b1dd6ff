package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/**
 * {@link Elements}: binary16 and bfloat16 conversions from float64 are the exactly rounded nearest-even values
 * (checked against exact decimal distances to both neighbours), and integer writes wrap as two's complement.
 */
class ElementsConversionTest {
    /** Finite values of a 16-bit float format, in increasing order of value, decoded by {@code decode}. */
    private static boolean nearestEven(double v, short h, java.util.function.IntFunction<Float> decode) {
        float got = decode.apply(h & 0xFFFF);
        if (Float.isInfinite(got)) return true; // overflow is checked separately
        BigDecimal x = new BigDecimal(v), g = new BigDecimal(got), dg = x.subtract(g).abs();
        for (int step : new int[] {-1, 1}) {
            int nb = neighbour(h & 0xFFFF, step);
            float n = decode.apply(nb);
            if (Float.isNaN(n) || Float.isInfinite(n)) continue;
            int c = x.subtract(new BigDecimal(n)).abs().compareTo(dg);
            if (c < 0) return false;                       // a neighbour is nearer
            if (c == 0 && (h & 1) != 0 && (nb & 1) == 0) return false; // a tie that should have gone to even
        }
        return true;
    }

    /** The adjacent 16-bit pattern in value order (sign-magnitude encoding). */
    private static int neighbour(int bits, int step) {
        boolean neg = (bits & 0x8000) != 0;
        int mag = bits & 0x7FFF;
        if (!neg) return mag + step < 0 ? 0x8001 : mag + step;
        return mag - step < 0 ? 1 : 0x8000 | (mag - step);
    }

    @Test
    void float16FromDoubleIsNearestEven() {
        qt().withExamples(20000).forAll(doubles().between(-70000, 70000)).checkAssert(v ->
                assertTrue(nearestEven(v, Elements.toF16(v), b -> Float.float16ToFloat((short) b)), "f16 of " + v));
        qt().withExamples(5000).forAll(doubles().between(-1e-4, 1e-4)).checkAssert(v -> // subnormal range
                assertTrue(nearestEven(v, Elements.toF16(v), b -> Float.float16ToFloat((short) b)), "f16 of " + v));
    }

    @Test
    void bfloat16FromDoubleIsNearestEven() {
        qt().withExamples(20000).forAll(doubles().between(-1e30, 1e30)).checkAssert(v ->
                assertTrue(nearestEven(v, Elements.toBf16(v), b -> Elements.bf16ToFloat((short) b)), "bf16 of " + v));
        qt().withExamples(5000).forAll(doubles().between(-4, 4)).checkAssert(v ->
                assertTrue(nearestEven(v, Elements.toBf16(v), b -> Elements.bf16ToFloat((short) b)), "bf16 of " + v));
    }

    @Test
    void noDoubleRoundingThroughFloat32() {
        // 1 + 2⁻¹¹ + 2⁻⁴⁰ is just above the midpoint of 1 and 1 + 2⁻¹⁰; rounding to float32 first lands on the midpoint
        double v = 1 + 0x1p-11 + 0x1p-40;
        assertEquals(1 + 0x1p-10, Float.float16ToFloat(Elements.toF16(v)));
        assertEquals(1f, Float.float16ToFloat(Float.floatToFloat16((float) v)), "the naive route rounds twice");
        double b = 1 + 0x1p-8 + 0x1p-40;
        assertEquals(1 + 0x1p-7, Elements.bf16ToFloat(Elements.toBf16(b)));
        assertEquals(1 + 0x1p-7, Elements.bf16ToFloat(Elements.toBf16(1 + 0x1p-8 + 0x1p-9))); // above the midpoint
        assertEquals(1.0, Elements.bf16ToFloat(Elements.toBf16(1 + 0x1p-8)));                // tie to even
    }

    @Test
    void specialValues() {
        assertEquals(Float.POSITIVE_INFINITY, Float.float16ToFloat(Elements.toF16(65520)));
        assertEquals(65504f, Float.float16ToFloat(Elements.toF16(65519.99)));
        assertTrue(Float.isNaN(Float.float16ToFloat(Elements.toF16(Double.NaN))));
        assertTrue(Float.isNaN(Elements.bf16ToFloat(Elements.toBf16(Double.NaN))));
        assertEquals(Float.NEGATIVE_INFINITY, Elements.bf16ToFloat(Elements.toBf16(Double.NEGATIVE_INFINITY)));
        assertEquals(Float.POSITIVE_INFINITY, Elements.bf16ToFloat(Elements.toBf16(1e300)));
        assertEquals(-0.0f, Float.float16ToFloat(Elements.toF16(-1e-30)));
    }

    @Test
    void integerWritesWrapAndUnsignedReadsAreNonNegative() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8);
            qt().withExamples(2000).forAll(longs().all()).checkAssert(boxed -> {
                long v = boxed;
                Elements.writeLong(s, DType.I8, 0, v);
                assertEquals((byte) v, Elements.readLong(s, DType.I8, 0));
                assertEquals(v & 0xFF, Elements.readLong(s, DType.U8, 0));
                Elements.writeLong(s, DType.I16, 0, v);
                assertEquals((short) v, Elements.readLong(s, DType.I16, 0));
                assertEquals(v & 0xFFFF, Elements.readLong(s, DType.U16, 0));
                Elements.writeLong(s, DType.U32, 0, v);
                assertEquals(v & 0xFFFF_FFFFL, Elements.readLong(s, DType.U32, 0));
                assertEquals((double) (v & 0xFFFF_FFFFL), Elements.read(s, DType.U32, 0));
                Elements.writeLong(s, DType.U64, 0, v);
                assertEquals(new BigDecimal(Long.toUnsignedString(v)).doubleValue(), Elements.read(s, DType.U64, 0));
                assertEquals(Elements.round(DType.I16, (double) (v >> 11)), (double) (short) (v >> 11));
            });
            Elements.write(s, DType.U64, 0, 0x1p63 + 4096);
            assertEquals("9223372036854779904", Long.toUnsignedString(Elements.readLong(s, DType.U64, 0)));
        }
    }
}
