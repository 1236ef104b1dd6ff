package tessera.kernels.gemm;

/**
 * Per-thread packing buffers of the float32 GEMM: the packed B panel, the packed A block and the MR×NR tile.
 * They are Java arrays (the microkernel reads arrays fastest, see {@link F32GemmMicrokernel4x2v}) that only grow,
 * so steady-state calls allocate nothing; at most KC×NC + MC×KC + MR×NR floats (≈ 4.3 MB) per thread.
 */
final class F32GemmScratch {
    private static final ThreadLocal<F32GemmScratch> PER_THREAD = ThreadLocal.withInitial(F32GemmScratch::new);

    private float[] packedB = new float[0];
    private float[] packedA = new float[0];
    final float[] tile = new float[F32GemmMicrokernel4x2v.MR * F32GemmMicrokernel4x2v.NR];

    /** The calling thread's buffers. Not reentrant: a GEMM never calls another GEMM on the same thread. */
    static F32GemmScratch ofCurrentThread() { return PER_THREAD.get(); }

    float[] packedB(int floats) {
        if (packedB.length < floats) packedB = new float[floats];
        return packedB;
    }

    float[] packedA(int floats) {
        if (packedA.length < floats) packedA = new float[floats];
        return packedA;
    }
}
