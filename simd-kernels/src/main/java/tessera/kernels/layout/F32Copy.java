package tessera.kernels.layout;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32-copy: short float runs (a row of a narrow map, a strip of a packed panel) by whole vectors of
 * {@link tessera.kernels.Species#FLOAT} and one masked tail. A bulk copy call ({@code MemorySegment.copy},
 * {@code System.arraycopy}) has a fixed cost that exceeds a 10- or 56-float row's; runs longer than {@link #BULK}
 * floats take the bulk call. No float outside the run is read or written. A tail whose whole vector would reach past
 * the end of either array or segment is copied element by element: the masked access would take the Vector API's
 * out-of-range path, whose mask C2 may materialize on the heap (the GEMM tile buffer did, 32 bytes per load).
 */
public final class F32Copy {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final int V = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Runs longer than this many floats use the bulk copy. */
    static final int BULK = 4 * V;

    private F32Copy() {}

    /** dst[d, d + n) = the n floats of src from byte offset {@code from}. */
    public static void toArray(MemorySegment src, long from, float[] dst, int d, int n) {
        if (n > BULK) {
            MemorySegment.copy(src, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, from, dst, d, n);
            return;
        }
        int i = 0;
        for (; i + V <= n; i += V) FloatVector.fromMemorySegment(S, src, from + i * 4L, NO).intoArray(dst, d + i);
        if (i < n) {
            if (from + (i + V) * 4L <= src.byteSize() && d + i + V <= dst.length) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector.fromMemorySegment(S, src, from + i * 4L, NO, m).intoArray(dst, d + i, m);
            } else {
                for (; i < n; i++) dst[d + i] = src.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, from + i * 4L);
            }
        }
    }

    /** The n floats of src from byte offset {@code from} to dst from byte offset {@code to}. */
    public static void toSegment(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        if (n > BULK) {
            MemorySegment.copy(src, from, dst, to, n * 4L);
            return;
        }
        int i = 0;
        for (; i + V <= n; i += V) FloatVector.fromMemorySegment(S, src, from + i * 4L, NO).intoMemorySegment(dst, to + i * 4L, NO);
        if (i < n) {
            if (from + (i + V) * 4L <= src.byteSize() && to + (i + V) * 4L <= dst.byteSize()) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector.fromMemorySegment(S, src, from + i * 4L, NO, m).intoMemorySegment(dst, to + i * 4L, NO, m);
            } else {
                for (; i < n; i++) dst.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, to + i * 4L,
                        src.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, from + i * 4L));
            }
        }
    }

    /** dst[d, d + n) = src[from, from + n) (distinct arrays or non-overlapping ranges). */
    public static void within(float[] src, int from, float[] dst, int d, int n) {
        if (n > BULK) {
            System.arraycopy(src, from, dst, d, n);
            return;
        }
        int i = 0;
        for (; i + V <= n; i += V) FloatVector.fromArray(S, src, from + i).intoArray(dst, d + i);
        if (i < n) {
            if (from + i + V <= src.length && d + i + V <= dst.length) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector.fromArray(S, src, from + i, m).intoArray(dst, d + i, m);
            } else {
                for (; i < n; i++) dst[d + i] = src[from + i];
            }
        }
    }
}
