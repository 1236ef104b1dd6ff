package tessera.memory;

/**
 * Element types a {@link Tensor} can hold. Sizes in bytes; all data is little-endian (native order on x86/ARM).
 * Kernels compute in F32 (and F64 for references); the other types carry model data (indices, masks, ONNX tensors of
 * other element types) and are read and written through {@link Elements}.
 */
public enum DType {
    F32(4, "<f4"), F64(8, "<f8"), I32(4, "<i4"), I64(8, "<i8"), U8(1, "|u1"),
    /** IEEE 754 binary16. */
    F16(2, "<f2"),
    I8(1, "|i1"), I16(2, "<i2"), U16(2, "<u2"), U32(4, "<u4"), U64(8, "<u8"),
    /** bfloat16: the upper 16 bits of a float32 (NumPy has no such type: {@link #npyDescr()} is null). */
    BF16(2, null);

    private final int byteSize;
    private final String npyDescr;

    DType(int byteSize, String npyDescr) {
        this.byteSize = byteSize;
        this.npyDescr = npyDescr;
    }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** The NumPy {@code descr} string of this type, e.g. {@code <f4}; null for {@link #BF16}, which NumPy lacks. */
    public String npyDescr() { return npyDescr; }

    /** The type whose NumPy descr is {@code descr}, or an {@link IllegalArgumentException} naming the supported ones. */
    public static DType fromNpyDescr(String descr) {
        for (DType t : values()) {
            if (descr.equals(t.npyDescr) || (t == U8 && descr.equals("<u1")) || (t == I8 && descr.equals("<i1"))) return t;
        }
        throw new IllegalArgumentException("unsupported .npy dtype '" + descr
                + "': expected one of <f4 (float32), <f8 (float64), <f2 (float16), <i4 (int32), <i8 (int64), |i1 (int8), <i2 (int16), "
                + "|u1 (uint8), <u2 (uint16), <u4 (uint32), <u8 (uint64)");
    }

    public boolean isFloatingPoint() { return this == F32 || this == F64 || this == F16 || this == BF16; }

    /** True for the unsigned integer types (U8 also holds booleans). */
    public boolean isUnsigned() { return this == U8 || this == U16 || this == U32 || this == U64; }
}
