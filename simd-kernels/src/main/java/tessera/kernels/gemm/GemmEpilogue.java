package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;

/**
 * Work fused into the store of each C tile of an {@link Gemm#sgemm sgemm}:
 * {@code c[i][j] = act(alpha·op(A)·op(B)[i][j] + beta·c[i][j] + rowBias[i] + colBias[j] + residual[i][j])}.
 *
 * <p>Every part is optional: a null segment leaves that term out; a null {@code activation} means
 * {@link ActivationFn#IDENTITY}. Offsets are in float elements; {@code rowBias} holds m floats from
 * {@code rowBiasOffset}, {@code colBias} n floats from {@code colBiasOffset}, {@code residual} is an m×n row-major
 * float matrix at {@code residualOffset} with row stride {@code ldResidual} (≥ n) that must not overlap C.
 * {@code activation} is any table activation with its parameters (ReLU, LeakyReLU and Clip are applied in
 * registers, the others per element in float64 and rounded); its parameters are not the GEMM's alpha and beta.
 */
public record GemmEpilogue(MemorySegment rowBias, long rowBiasOffset, MemorySegment colBias, long colBiasOffset,
        ActivationFn activation, MemorySegment residual, long residualOffset, int ldResidual) {

    /** No epilogue work (plain GEMM). */
    public static final GemmEpilogue NONE = new GemmEpilogue(null, 0, null, 0, ActivationFn.IDENTITY, null, 0, 0);

    /** The one-scalar form ({@code alpha}: LEAKY_RELU's slope, ELU's alpha; null act = IDENTITY). */
    public GemmEpilogue(MemorySegment rowBias, long rowBiasOffset, MemorySegment colBias, long colBiasOffset,
            Activation activation, float alpha, MemorySegment residual, long residualOffset, int ldResidual) {
        this(rowBias, rowBiasOffset, colBias, colBiasOffset, activation == null ? null : ActivationFn.of(activation, alpha),
                residual, residualOffset, ldResidual);
    }

    /** A per-row bias (one value per output row, e.g. per output channel of a convolution) and an activation. */
    public static GemmEpilogue rowBias(MemorySegment bias, long offset, ActivationFn act) {
        return new GemmEpilogue(bias, offset, null, 0, act, null, 0, 0);
    }

    /** A per-column bias (one value per output column, e.g. a linear layer's bias) and an activation. */
    public static GemmEpilogue colBias(MemorySegment bias, long offset, ActivationFn act) {
        return new GemmEpilogue(null, 0, bias, offset, act, null, 0, 0);
    }

    /** Only an activation. */
    public static GemmEpilogue activation(ActivationFn act) {
        return new GemmEpilogue(null, 0, null, 0, act, null, 0, 0);
    }

    /** One-scalar form of {@link #rowBias(MemorySegment, long, ActivationFn)}. */
    public static GemmEpilogue rowBias(MemorySegment bias, long offset, Activation act, float alpha) {
        return rowBias(bias, offset, ActivationFn.of(act, alpha));
    }

    /** One-scalar form of {@link #colBias(MemorySegment, long, ActivationFn)}. */
    public static GemmEpilogue colBias(MemorySegment bias, long offset, Activation act, float alpha) {
        return colBias(bias, offset, ActivationFn.of(act, alpha));
    }

    /** One-scalar form of {@link #activation(ActivationFn)}. */
    public static GemmEpilogue activation(Activation act, float alpha) {
        return activation(ActivationFn.of(act, alpha));
    }

    /** The same epilogue with a residual matrix added before the activation. */
    public GemmEpilogue withResidual(MemorySegment res, long offset, int ld) {
        return new GemmEpilogue(rowBias, rowBiasOffset, colBias, colBiasOffset, activation, res, offset, ld);
    }

    /** The activation with its parameters, with null read as IDENTITY. */
    public ActivationFn fn() { return activation == null ? ActivationFn.IDENTITY : activation; }

    /** The activation's kind, with null read as IDENTITY. */
    public Activation act() { return activation == null ? Activation.IDENTITY : activation.kind(); }

    /** True when applying this epilogue changes nothing. */
    public boolean isNone() {
        return rowBias == null && colBias == null && residual == null && act() == Activation.IDENTITY;
    }
}
