package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import tessera.kernels.Activation;

/**
 * Work fused into the store of each C tile of an {@link Gemm#sgemm sgemm}:
 * {@code c[i][j] = act(alpha·op(A)·op(B)[i][j] + beta·c[i][j] + rowBias[i] + colBias[j] + residual[i][j])}.
 *
 * <p>Every part is optional: a null segment leaves that term out; a null {@code activation} means
 * {@link Activation#IDENTITY}. Offsets are in float elements; {@code rowBias} holds m floats from
 * {@code rowBiasOffset}, {@code colBias} n floats from {@code colBiasOffset}, {@code residual} is an m×n row-major
 * float matrix at {@code residualOffset} with row stride {@code ldResidual} (≥ n) that must not overlap C.
 * {@code alpha} is the activation's parameter (negative slope of LEAKY_RELU, alpha of ELU), not the GEMM's alpha.
 */
public record GemmEpilogue(MemorySegment rowBias, long rowBiasOffset, MemorySegment colBias, long colBiasOffset,
        Activation activation, float alpha, MemorySegment residual, long residualOffset, int ldResidual) {

    /** No epilogue work (plain GEMM). */
    public static final GemmEpilogue NONE = new GemmEpilogue(null, 0, null, 0, Activation.IDENTITY, 0f, null, 0, 0);

    /** A per-row bias (one value per output row, e.g. per output channel of a convolution) and an activation. */
    public static GemmEpilogue rowBias(MemorySegment bias, long offset, Activation act, float alpha) {
        return new GemmEpilogue(bias, offset, null, 0, act, alpha, null, 0, 0);
    }

    /** A per-column bias (one value per output column, e.g. a linear layer's bias) and an activation. */
    public static GemmEpilogue colBias(MemorySegment bias, long offset, Activation act, float alpha) {
        return new GemmEpilogue(null, 0, bias, offset, act, alpha, null, 0, 0);
    }

    /** Only an activation. */
    public static GemmEpilogue activation(Activation act, float alpha) {
        return new GemmEpilogue(null, 0, null, 0, act, alpha, null, 0, 0);
    }

    /** The same epilogue with a residual matrix added before the activation. */
    public GemmEpilogue withResidual(MemorySegment res, long offset, int ld) {
        return new GemmEpilogue(rowBias, rowBiasOffset, colBias, colBiasOffset, activation, alpha, res, offset, ld);
    }

    /** The activation, with null read as IDENTITY. */
    public Activation act() { return activation == null ? Activation.IDENTITY : activation; }

    /** True when applying this epilogue changes nothing. */
    public boolean isNone() {
        return rowBias == null && colBias == null && residual == null && act() == Activation.IDENTITY;
    }
}
