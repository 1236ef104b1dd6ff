package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32-gemm-6x2v: the register-blocked float32 GEMM microkernel, MR = 6 rows × NR = 2 vectors of
 * {@link FloatVector#SPECIES_PREFERRED} (6×16 with 256-bit vectors, 6×32 with 512-bit) — 12 vector accumulators,
 * 2 vector loads of B and 6 broadcasts of A per k step (12 FMAs).
 *
 * <p>Inputs are packed panels: A as {@code a[p][r]} (MR floats per k step), B as {@code b[p][c]} (NR floats per
 * k step). The MR×NR result (row-major, NR floats per row) is written to {@code tile}; the caller merges it into C.
 */
final class F32GemmMicrokernel6x2v {
    private F32GemmMicrokernel6x2v() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /** Rows per tile. */
    static final int MR = 6;
    /** Columns per tile (two vectors). */
    static final int NR = 2 * V;

    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long VB = V * 4L;

    /**
     * tile[r][c] = Σ_p a[p][r]·b[p][c] over p in [0, kc).
     *
     * @param a     packed A strip; {@code aByte} its byte offset
     * @param b     packed B strip; {@code bByte} its byte offset
     * @param tile  MR×NR floats at byte offset {@code tByte}
     */
    static void compute(MemorySegment a, long aByte, MemorySegment b, long bByte, int kc, MemorySegment tile, long tByte) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        long ap = aByte, bp = bByte;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bp, NO);
            FloatVector b1 = FloatVector.fromMemorySegment(S, b, bp + VB, NO);
            FloatVector x = FloatVector.broadcast(S, a.get(F, ap));
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a.get(F, ap + 4));
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a.get(F, ap + 8));
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a.get(F, ap + 12));
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a.get(F, ap + 16));
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a.get(F, ap + 20));
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            ap += MR * 4;
            bp += 2 * VB;
        }
        long t = tByte;
        c00.intoMemorySegment(tile, t, NO);
        c01.intoMemorySegment(tile, t + VB, NO);
        t += 2 * VB;
        c10.intoMemorySegment(tile, t, NO);
        c11.intoMemorySegment(tile, t + VB, NO);
        t += 2 * VB;
        c20.intoMemorySegment(tile, t, NO);
        c21.intoMemorySegment(tile, t + VB, NO);
        t += 2 * VB;
        c30.intoMemorySegment(tile, t, NO);
        c31.intoMemorySegment(tile, t + VB, NO);
        t += 2 * VB;
        c40.intoMemorySegment(tile, t, NO);
        c41.intoMemorySegment(tile, t + VB, NO);
        t += 2 * VB;
        c50.intoMemorySegment(tile, t, NO);
        c51.intoMemorySegment(tile, t + VB, NO);
    }
}
