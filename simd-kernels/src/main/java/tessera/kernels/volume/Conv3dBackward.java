package tessera.kernels.volume;

import java.lang.foreign.MemorySegment;
import tessera.kernels.gemm.Gemm;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * Gradients of the 3-D convolutions ({@link Conv3d}), layouts as there; every output is overwritten, a null bias
 * gradient is skipped. float32: per sample and group, the input gradient of a convolution is one GEMM into columns
 * and a col2vol scatter, its weight gradient vol2col and one GEMM accumulated over the batch; for the transposed
 * convolution the roles swap (vol2col of dy, then a GEMM for either gradient). float64 runs {@link Conv3dReference}.
 */
public final class Conv3dBackward {
    private static final Workspace.Slot COLUMNS = Workspace.slot("volume.conv3d.backward.columns");

    private Conv3dBackward() {}

    /** dx [N, C, D, H, W] = ∂⟨conv(x, w), dy⟩/∂x for dy [N, K, oD, oH, oW], w [K, C/g, kD, kH, kW]. */
    public static void backwardData(Conv3dSpec s, Tensor dy, Tensor w, Tensor dx) {
        String op = "Conv3dBackward.backwardData";
        DType d = checkConv(op, s, dy, w);
        Checks3d.tensor(op, "dx", dx, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        if (d == DType.F64) {
            Conv3dReference.backwardData(s, dy, w, dx);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups(), rows = cg * g.taps(), cols = Math.toIntExact(g.gridSize());
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        dx.fill(0);
        for (int n = 0; n < s.batch(); n++)
            for (int gi = 0; gi < s.groups(); gi++) {
                Gemm.sgemm(true, false, rows, cols, kg, 1f, w.segment(), w.offset() + (long) gi * kg * rows, rows,
                        dy.segment(), dy.offset() + ((long) n * s.outChannels() + (long) gi * kg) * cols, cols, 0f, col, 0, cols);
                Vol2col.scatterAdd(g, cg, col, 0, dx.segment(), dx.offset() + ((long) n * s.inChannels() + (long) gi * cg) * g.volumeSize());
            }
    }

    /** dw [K, C/g, kD, kH, kW] and dbias [K] (nullable) of a convolution, from x and dy. */
    public static void backwardWeights(Conv3dSpec s, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        String op = "Conv3dBackward.backwardWeights";
        DType d = checkConv(op, s, dy, dw);
        Checks3d.tensor(op, "x", x, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        if (dbias != null) Checks3d.tensor(op, "dbias", dbias, d, s.outChannels());
        if (d == DType.F64) {
            Conv3dReference.backwardWeights(s, x, dy, dw, dbias);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups(), rows = cg * g.taps(), cols = Math.toIntExact(g.gridSize());
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        for (int n = 0; n < s.batch(); n++)
            for (int gi = 0; gi < s.groups(); gi++) {
                Vol2col.gather(g, cg, x.segment(), x.offset() + ((long) n * s.inChannels() + (long) gi * cg) * g.volumeSize(), col, 0);
                Gemm.sgemm(false, true, kg, rows, cols, 1f, dy.segment(), dy.offset() + ((long) n * s.outChannels() + (long) gi * kg) * cols, cols,
                        col, 0, cols, n == 0 ? 0f : 1f, dw.segment(), dw.offset() + (long) gi * kg * rows, rows);
            }
        if (dbias != null) channelSums(dy, s.batch(), s.outChannels(), cols, dbias);
    }

    /** dx [N, Cin, D, H, W] of a transposed convolution, from dy [N, Cout, oD, oH, oW] and w [Cin, Cout/g, kD, kH, kW]. */
    public static void transposeBackwardData(ConvTranspose3dSpec s, Tensor dy, Tensor w, Tensor dx) {
        String op = "Conv3dBackward.transposeBackwardData";
        DType d = checkTransposed(op, s, dy, w);
        Checks3d.tensor(op, "dx", dx, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        if (d == DType.F64) {
            Conv3dReference.transposeBackwardData(s, dy, w, dx);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups(), rows = kg * g.taps(), cols = Math.toIntExact(g.gridSize());
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        for (int n = 0; n < s.batch(); n++)
            for (int gi = 0; gi < s.groups(); gi++) {
                Vol2col.gather(g, kg, dy.segment(), dy.offset() + ((long) n * s.outChannels() + (long) gi * kg) * g.volumeSize(), col, 0);
                Gemm.sgemm(false, false, cg, cols, rows, 1f, w.segment(), w.offset() + (long) gi * cg * rows, rows, col, 0, cols,
                        0f, dx.segment(), dx.offset() + ((long) n * s.inChannels() + (long) gi * cg) * cols, cols);
            }
    }

    /** dw [Cin, Cout/g, kD, kH, kW] and dbias [Cout] (nullable) of a transposed convolution, from x and dy. */
    public static void transposeBackwardWeights(ConvTranspose3dSpec s, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        String op = "Conv3dBackward.transposeBackwardWeights";
        DType d = checkTransposed(op, s, dy, dw);
        Checks3d.tensor(op, "x", x, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        if (dbias != null) Checks3d.tensor(op, "dbias", dbias, d, s.outChannels());
        if (d == DType.F64) {
            Conv3dReference.transposeBackwardWeights(s, x, dy, dw, dbias);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups(), rows = kg * g.taps(), cols = Math.toIntExact(g.gridSize());
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        for (int n = 0; n < s.batch(); n++)
            for (int gi = 0; gi < s.groups(); gi++) {
                Vol2col.gather(g, kg, dy.segment(), dy.offset() + ((long) n * s.outChannels() + (long) gi * kg) * g.volumeSize(), col, 0);
                Gemm.sgemm(false, true, cg, rows, cols, 1f, x.segment(), x.offset() + ((long) n * s.inChannels() + (long) gi * cg) * cols, cols,
                        col, 0, cols, n == 0 ? 0f : 1f, dw.segment(), dw.offset() + (long) gi * cg * rows, rows);
            }
        if (dbias != null) channelSums(dy, s.batch(), s.outChannels(), g.volumeSize(), dbias);
    }

    private static DType checkConv(String op, Conv3dSpec s, Tensor dy, Tensor w) {
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, dy);
        Checks3d.tensor(op, "dy", dy, d, Checks3d.dims(s.batch(), s.outChannels(), s.out()));
        Checks3d.tensor(op, "weight", w, d, Checks3d.dims(s.outChannels(), s.inChannels() / s.groups(), s.kernel()));
        return d;
    }

    private static DType checkTransposed(String op, ConvTranspose3dSpec s, Tensor dy, Tensor w) {
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, dy);
        Checks3d.tensor(op, "dy", dy, d, Checks3d.dims(s.batch(), s.outChannels(), s.out()));
        Checks3d.tensor(op, "weight", w, d, Checks3d.dims(s.inChannels(), s.outChannels() / s.groups(), s.kernel()));
        return d;
    }

    /** dbias[c] = Σ over the batch and the volume of dy[n, c, ...] (summed in float64). */
    static void channelSums(Tensor dy, int batch, int channels, long volume, Tensor dbias) {
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int n = 0; n < batch; n++) {
                long o = dy.offset() + ((long) n * channels + c) * volume;
                for (long i = 0; i < volume; i++) sum += dy.readAt(o + i);
            }
            dbias.writeAt(dbias.offset() + c, sum);
        }
    }
}
