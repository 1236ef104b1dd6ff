package tessera.memory;

/**
 * Memory layouts of 4-d activation tensors.
 * <ul>
 *   <li>{@link #NCHW}: batch, channel, row, column (PyTorch's default).</li>
 *   <li>{@link #NHWC}: channels last.</li>
 *   <li>{@link #NCHW_BLOCKED}: NCHW[b]c, shape {@code [N, ceil(C/b), H, W, b]} for a block b chosen by the
 *       kernels (the float lanes of the preferred vector species: 16 on AVX-512, 8 on AVX2; see
 *       {@code tessera.kernels.layout.Layouts#preferredBlock()}), as oneDNN's nChw16c.
 *       The last channel block is zero-padded.</li>
 *   <li>{@link #ANY}: no particular meaning (matrices, vectors, labels).</li>
 * </ul>
 */
public enum Layout {
    ANY, NCHW, NHWC, NCHW_BLOCKED;

    /** NCHW for rank-4 tensors, ANY otherwise. */
    public static Layout defaultFor(int rank) { return rank == 4 ? NCHW : ANY; }
}
