package tessera.kernels.gemm;

/**
 * Chooses the microkernel family from the vector register count and width (rules measured on real machines, see
 * {@link #shapeFor}) and the implementation of that family for the preferred vector width.
 */
final class F32GemmTileSelector {
    private F32GemmTileSelector() {}

    /**
     * The family for a register file: 16 registers (AVX2) → 4x2v (11 live vectors; 6x2v spilled on Zen 3);
     * 32 registers of 128 bits (NEON) → 8x2v (19 live vectors, the most rows per B load that stays clear of
     * spilling); 32 registers of 256 or 512 bits (AVX-512) → 6x2v (15 live vectors; 99% of peak in cache on a
     * Xeon).
     */
    static String shapeFor(int registers, int bits) {
        if (registers < 32) return "4x2v";
        return bits <= 128 ? "8x2v" : "6x2v";
    }

    /** Vector width a kernel is built for: the preferred width if it has one, else the nearest of 128/256/512. */
    static int kernelBits(int preferredBits) {
        return preferredBits >= 512 ? 512 : preferredBits >= 256 ? 256 : 128;
    }

    /**
     * The kernel for {@code cpu}, or for {@code override} when not null: a shape ({@code 6x2v}) or a shape and a
     * width ({@code 6x2v-256}).
     */
    static F32GemmMicrokernel select(F32GemmCpu cpu, String override) {
        if (override == null || override.isBlank()) {
            return F32GemmTiles.of(shapeFor(cpu.registers(), cpu.bits()), kernelBits(cpu.bits()));
        }
        String o = override.trim();
        int dash = o.indexOf('-');
        if (dash < 0) return F32GemmTiles.of(o, kernelBits(cpu.bits()));
        try {
            return F32GemmTiles.of(o.substring(0, dash), Integer.parseInt(o.substring(dash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tessera.gemm.tile must look like 6x2v or 6x2v-256, got '" + o + "'", e);
        }
    }
}
