package tessera.kernels.gemm;

/**
 * Cache-blocking parameters of the float32 GEMM (Goto/BLIS loop nest), sized for a core with a 32 KiB L1d,
 * 512 KiB–1 MiB L2 and a shared L3:
 * a packed B micro-panel (KC×NR floats, 16–32 KiB) stays in L1, a packed A block (MC×KC, 144 KiB) in L2 and a packed
 * B block (KC×NC, ≤ 4 MiB) in L3.
 */
final class F32GemmBlocking {
    private F32GemmBlocking() {}

    /** Depth of one rank-KC update (k block). */
    static final int KC = 256;
    /** Rows of A packed at once (a multiple of MR). */
    static final int MC = 36 * F32GemmMicrokernel4x2v.MR;
    /** Columns of B packed at once (a multiple of NR). */
    static final int NC = (4096 / F32GemmMicrokernel4x2v.NR) * F32GemmMicrokernel4x2v.NR;

    static int roundUp(int x, int m) { return (x + m - 1) / m * m; }
}
