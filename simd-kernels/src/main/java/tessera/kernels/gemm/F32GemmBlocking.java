package tessera.kernels.gemm;

/**
 * Cache blocking of the float32 GEMM (Goto/BLIS loop nest), in elements: a packed A strip (MR × KC floats) is reused
 * from L1 across the B micro-panels of a sub-panel held in L2 (see {@code F32GemmDriver.macroKernel}), the packed
 * A block (MC × KC floats) is sized to half of L2 and a packed B panel (KC × NC floats) to a quarter of L3.
 *
 * @param kc depth of one rank-KC update (k block), ≥ 1
 * @param mc rows of A packed at once, a multiple of the tile's MR
 * @param nc columns of B packed at once, a multiple of the tile's NR
 */
record F32GemmBlocking(int kc, int mc, int nc) {
    F32GemmBlocking {
        if (kc < 1 || mc < 1 || nc < 1) throw new IllegalArgumentException("GEMM blocking must be positive: " + this);
    }

    /**
     * Blocking derived from cache sizes (bytes) for tile {@code k}: KC as deep as L1d holds a B micro-panel (KC·NR
     * floats; fewer k blocks means fewer passes over C), clamped to [64, 512]; MC so that the A block fills half of
     * L2; NC so that the B panel takes a quarter of L3, at most 4096 columns.
     */
    static F32GemmBlocking forCaches(F32GemmMicrokernel k, long l1d, long l2, long l3) {
        int kc = (int) Math.max(64, Math.min(512, l1d / (4L * k.nr) / 8 * 8));
        int mc = (int) Math.max(k.mr, Math.min(4096, l2 / 2 / (4L * kc)) / k.mr * k.mr);
        int nc = (int) Math.max(k.nr, Math.min(4096, l3 / 4 / (4L * kc)) / k.nr * k.nr);
        return new F32GemmBlocking(kc, mc, nc);
    }

    /** The same blocking with MC and NC rounded up to multiples of the tile (after a user override). */
    F32GemmBlocking fitTo(F32GemmMicrokernel k) {
        return new F32GemmBlocking(kc, roundUp(mc, k.mr), roundUp(nc, k.nr));
    }

    static int roundUp(int x, int m) { return (x + m - 1) / m * m; }
}
