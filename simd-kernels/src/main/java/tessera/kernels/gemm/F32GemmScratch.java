package tessera.kernels.gemm;

/**
 * Per-thread packing buffers of the float32 GEMM: the packed B panel, the packed A block, the MR×NR tile
 * and a row of A being packed.
 * They are Java arrays (the microkernels read arrays fastest: C2 hoists their range checks) that only grow, so
 * steady-state calls allocate nothing; at most KC×NC + MC×KC + MR×NR floats per thread (the tile buffer has one vector
 * more, {@link F32GemmTileStore#tileFloats}).
 */
final class F32GemmScratch {
    private static final ThreadLocal<F32GemmScratch> PER_THREAD = ThreadLocal.withInitial(F32GemmScratch::new);

    private float[] packedB = new float[0];
    /** {@link #packedB} as a heap segment, made once per growth (the transposed-B packing writes through it). */
    private java.lang.foreign.MemorySegment packedBSegment = java.lang.foreign.MemorySegment.ofArray(packedB);
    private float[] packedA = new float[0];
    private float[] tile = new float[0];
    private float[] row = new float[0];

    /** The calling thread's buffers. Not reentrant: a GEMM never calls another GEMM on the same thread. */
    static F32GemmScratch ofCurrentThread() { return PER_THREAD.get(); }

    float[] packedB(int floats) {
        if (packedB.length < floats) {
            packedB = new float[floats];
            packedBSegment = java.lang.foreign.MemorySegment.ofArray(packedB);
        }
        return packedB;
    }

    /** The segment over the current {@link #packedB} array. */
    java.lang.foreign.MemorySegment packedBSegment() { return packedBSegment; }

    float[] packedA(int floats) {
        if (packedA.length < floats) packedA = new float[floats];
        return packedA;
    }

    /** A staging buffer for one row of A while it is packed. */
    float[] row(int floats) {
        if (row.length < floats) row = new float[floats];
        return row;
    }

    float[] tile(int floats) {
        if (tile.length < floats) tile = new float[floats];
        return tile;
    }
}
