package tessera.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reading and writing single elements of any {@link DType} (little-endian), as double or as long, with the
 * conversions ONNX and NumPy use: binary16 and bfloat16 round to nearest even (from float64 without double
 * rounding), integer writes wrap to the type's width (two's complement), unsigned types read as non-negative.
 * Meant for the loops of non-float32 data; float32 kernels access memory directly.
 */
public final class Elements {
    private Elements() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final double TWO_63 = 0x1p63;

    /** Element {@code i} (in elements) of {@code s} holding {@code t}, as a double (exact except 64-bit integers beyond 2⁵³). */
    public static double read(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(F32, i);
            case F64 -> s.getAtIndex(F64, i);
            case F16 -> Float.float16ToFloat(s.getAtIndex(I16, i));
            case BF16 -> bf16ToFloat(s.getAtIndex(I16, i));
            case U64 -> unsignedToDouble(s.getAtIndex(I64, i));
            default -> readLong(s, t, i);
        };
    }

    /** Element {@code i} as a long: integers exactly (U64 as its two's-complement bits), floats truncated toward zero. */
    public static long readLong(MemorySegment s, DType t, long i) {
        return switch (t) {
            case I8 -> s.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, i));
            case I16 -> s.getAtIndex(I16, i);
            case U16 -> Short.toUnsignedLong(s.getAtIndex(I16, i));
            case I32 -> s.getAtIndex(I32, i);
            case U32 -> Integer.toUnsignedLong(s.getAtIndex(I32, i));
            case I64, U64 -> s.getAtIndex(I64, i);
            default -> (long) read(s, t, i);
        };
    }

    /** Writes {@code v} converted to {@code t}: floats rounded to nearest even, integers truncated toward zero then wrapped. */
    public static void write(MemorySegment s, DType t, long i, double v) {
        switch (t) {
            case F32 -> s.setAtIndex(F32, i, (float) v);
            case F64 -> s.setAtIndex(F64, i, v);
            case F16 -> s.setAtIndex(I16, i, toF16(v));
            case BF16 -> s.setAtIndex(I16, i, toBf16(v));
            case U64 -> s.setAtIndex(I64, i, v >= TWO_63 ? (long) (v - TWO_63) ^ Long.MIN_VALUE : (long) v);
            default -> writeLong(s, t, i, (long) v);
        }
    }

    /** Writes integer {@code v} to {@code t}, wrapping to the width of integer types, rounding to float types. */
    public static void writeLong(MemorySegment s, DType t, long i, long v) {
        switch (t) {
            case I8, U8 -> s.set(ValueLayout.JAVA_BYTE, i, (byte) v);
            case I16, U16 -> s.setAtIndex(I16, i, (short) v);
            case I32, U32 -> s.setAtIndex(I32, i, (int) v);
            case I64, U64 -> s.setAtIndex(I64, i, v);
            case F32 -> s.setAtIndex(F32, i, (float) v);
            default -> write(s, t, i, (double) v);
        }
    }

    /** {@code v} rounded to the nearest value of {@code t} (floats) or truncated and wrapped (integers), as a double. */
    public static double round(DType t, double v) {
        return switch (t) {
            case F64 -> v;
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(toF16(v));
            case BF16 -> bf16ToFloat(toBf16(v));
            case U64 -> v >= TWO_63 ? v : unsignedToDouble((long) v);
            case I64 -> (long) v;
            default -> {
                long w = (long) v;
                yield switch (t) {
                    case I8 -> (byte) w;
                    case U8 -> w & 0xFF;
                    case I16 -> (short) w;
                    case U16 -> w & 0xFFFF;
                    case I32 -> (int) w;
                    default -> w & 0xFFFF_FFFFL; // U32
                };
            }
        };
    }

    /** The bfloat16 with bits {@code b} as a float (exact). */
    public static float bf16ToFloat(short b) { return Float.intBitsToFloat((b & 0xFFFF) << 16); }

    /** {@code v} rounded to binary16, nearest even (overflow to ±infinity, NaN stays NaN). */
    public static short toF16(double v) { return Float.floatToFloat16(roundToOddFloat(v)); }

    /** {@code v} rounded to bfloat16, nearest even (overflow to ±infinity, NaN to a quiet NaN of the same sign). */
    public static short toBf16(double v) {
        float f = roundToOddFloat(v);
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /**
     * {@code v} as a float rounded to odd: truncated toward zero with the last bit set when inexact. Rounding that
     * float again to a format of at most 22 significand bits gives the same result as rounding {@code v} directly
     * (Boldo and Melquiond), so double → half conversions need no second rounding step of their own.
     */
    static float roundToOddFloat(double v) {
        float f = (float) v;
        if (Double.isNaN(v) || Double.isInfinite(v) || (double) f == v) return f;
        if (Math.abs((double) f) > Math.abs(v)) f = Math.nextAfter(f, 0.0); // truncate toward zero
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }

    private static double unsignedToDouble(long x) {
        if (x >= 0) return x;
        return ((x >>> 1) | (x & 1)) * 2.0;
    }
}
