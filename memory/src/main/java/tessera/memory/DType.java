package tessera.memory;

/** Element types a {@link Tensor} can hold. Sizes in bytes; all data is little-endian (native order on x86/ARM). */
public enum DType {
    F32(4, "<f4"), F64(8, "<f8"), I32(4, "<i4"), I64(8, "<i8"), U8(1, "|u1");

    private final int byteSize;
    private final String npyDescr;

    DType(int byteSize, String npyDescr) {
        this.byteSize = byteSize;
        this.npyDescr = npyDescr;
    }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** The NumPy {@code descr} string of this type, e.g. {@code <f4}. */
    public String npyDescr() { return npyDescr; }

    /** The type whose NumPy descr is {@code descr}, or an {@link IllegalArgumentException} naming the supported ones. */
    public static DType fromNpyDescr(String descr) {
        for (DType t : values()) {
            if (t.npyDescr.equals(descr) || (t == U8 && descr.equals("<u1"))) return t;
        }
        throw new IllegalArgumentException("unsupported .npy dtype '" + descr
                + "': expected one of <f4 (float32), <f8 (float64), <i4 (int32), <i8 (int64), |u1 (uint8)");
    }

    public boolean isFloatingPoint() { return this == F32 || this == F64; }
}
