package tessera.kernels.volume;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import tessera.kernels.gemm.Gemm;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * 3-D convolution and transposed convolution over NCDHW ({@link Conv3dSpec}, {@link ConvTranspose3dSpec}); outputs
 * are overwritten, bias [outChannels] may be null. float32 runs vol2col + {@link Gemm#sgemm} per sample and group
 * (the transposed one GEMM into columns, then a col2vol scatter); float64 runs {@link Conv3dReference}.
 */
public final class Conv3d {
    private static final Workspace.Slot COLUMNS = Workspace.slot("volume.conv3d.columns");

    private Conv3d() {}

    /** y = conv(x, w) + bias: x [N, C, D, H, W], w [K, C/g, kD, kH, kW], y [N, K, oD, oH, oW]. */
    public static void forward(Conv3dSpec s, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "Conv3d.forward";
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, x);
        int[] k = s.kernel();
        Checks3d.tensor(op, "x", x, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        Checks3d.tensor(op, "w", w, d, Checks3d.dims(s.outChannels(), s.inChannels() / s.groups(), k));
        if (bias != null) Checks3d.tensor(op, "bias", bias, d, s.outChannels());
        Checks3d.tensor(op, "y", y, d, Checks3d.dims(s.batch(), s.outChannels(), s.out()));
        if (d == DType.F64) {
            Conv3dReference.forward(s, x, w, bias, y);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        int rows = cg * g.taps(), cols = Math.toIntExact(g.gridSize());
        long inVol = g.volumeSize();
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        for (int n = 0; n < s.batch(); n++) {
            for (int gi = 0; gi < s.groups(); gi++) {
                Vol2col.gather(g, cg, x.segment(), x.offset() + ((long) n * s.inChannels() + (long) gi * cg) * inVol, col, 0);
                Gemm.sgemm(false, false, kg, cols, rows, 1f, w.segment(), w.offset() + (long) gi * kg * rows, rows, col, 0, cols,
                        0f, y.segment(), y.offset() + ((long) n * s.outChannels() + (long) gi * kg) * cols, cols);
            }
        }
        if (bias != null) addBias(y, bias, s.batch(), s.outChannels(), cols);
    }

    /** y = convTranspose(x, w) + bias: x [N, Cin, D, H, W], w [Cin, Cout/g, kD, kH, kW], y [N, Cout, oD, oH, oW]. */
    public static void transposeForward(ConvTranspose3dSpec s, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "Conv3d.transposeForward";
        if (s == null) throw new IllegalArgumentException(op + ": spec must not be null");
        DType d = Checks3d.floatType(op, x);
        Checks3d.tensor(op, "x", x, d, Checks3d.dims(s.batch(), s.inChannels(), s.in()));
        Checks3d.tensor(op, "w", w, d, Checks3d.dims(s.inChannels(), s.outChannels() / s.groups(), s.kernel()));
        if (bias != null) Checks3d.tensor(op, "bias", bias, d, s.outChannels());
        Checks3d.tensor(op, "y", y, d, Checks3d.dims(s.batch(), s.outChannels(), s.out()));
        if (d == DType.F64) {
            Conv3dReference.transposeForward(s, x, w, bias, y);
            return;
        }
        VolumeGeom g = s.geom();
        int cg = s.inChannels() / s.groups(), kg = s.outChannels() / s.groups();
        int rows = kg * g.taps(), cols = Math.toIntExact(g.gridSize());
        long outVol = g.volumeSize();
        MemorySegment col = Workspace.ofCurrentThread().floats(COLUMNS, (long) rows * cols);
        y.fill(0);
        for (int n = 0; n < s.batch(); n++) {
            for (int gi = 0; gi < s.groups(); gi++) {
                // columns [Cout/g · taps, D·H·W] = w_gᵀ · x_g, w_g stored [Cin/g, Cout/g · taps]
                Gemm.sgemm(true, false, rows, cols, cg, 1f, w.segment(), w.offset() + (long) gi * cg * rows, rows,
                        x.segment(), x.offset() + ((long) n * s.inChannels() + (long) gi * cg) * cols, cols, 0f, col, 0, cols);
                Vol2col.scatterAdd(g, kg, col, 0, y.segment(), y.offset() + ((long) n * s.outChannels() + (long) gi * kg) * outVol);
            }
        }
        if (bias != null) addBias(y, bias, s.batch(), s.outChannels(), outVol);
    }

    private static void addBias(Tensor y, Tensor bias, int batch, int channels, long volume) {
        MemorySegment ys = y.segment();
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++) {
                float b = bias.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, bias.offset() + c);
                long o = y.offset() + ((long) n * channels + c) * volume;
                for (long i = 0; i < volume; i++) ys.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, o + i, ys.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, o + i) + b);
            }
    }
}
