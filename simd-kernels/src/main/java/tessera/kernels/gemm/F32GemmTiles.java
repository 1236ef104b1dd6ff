package tessera.kernels.gemm;

import java.util.List;

/** The microkernel families and their per-species implementations, looked up by shape name and vector width. */
final class F32GemmTiles {
    private F32GemmTiles() {}

    /** Every implementation: each family on 128-, 256- and 512-bit species. */
    static final List<F32GemmMicrokernel> ALL = List.of(
            F32Gemm4x2v.S128, F32Gemm4x2v.S256, F32Gemm4x2v.S512,
            F32Gemm6x2v.S128, F32Gemm6x2v.S256, F32Gemm6x2v.S512,
            F32Gemm8x2v.S128, F32Gemm8x2v.S256, F32Gemm8x2v.S512,
            F32Gemm12x2v.S128, F32Gemm12x2v.S256, F32Gemm12x2v.S512);

    /**
     * The implementation of family {@code shape} (e.g. {@code "6x2v"}) on {@code bits}-bit vectors.
     *
     * @throws IllegalArgumentException naming the known shapes and widths if there is none
     */
    static F32GemmMicrokernel of(String shape, int bits) {
        for (F32GemmMicrokernel k : ALL) {
            if (k.shape().equals(shape) && k.bits() == bits) return k;
        }
        throw new IllegalArgumentException("no f32 GEMM microkernel " + shape + " on " + bits + "-bit vectors; shapes: "
                + ALL.stream().map(F32GemmMicrokernel::shape).distinct().toList() + ", widths 128, 256, 512");
    }
}
