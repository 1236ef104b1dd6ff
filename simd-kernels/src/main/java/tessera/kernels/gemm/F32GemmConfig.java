package tessera.kernels.gemm;

/**
 * The float32 GEMM's kernel choice: a microkernel, its cache blocking and where both came from. {@link #DEFAULT}
 * is fixed per JVM at first use (C2 then sees one kernel class at the call site): the tile from
 * {@link F32GemmTileSelector} unless the system property {@code tessera.gemm.tile} names one ({@code 6x2v} or
 * {@code 6x2v-256}), the blocking from the cache sizes unless {@code tessera.gemm.kc}, {@code tessera.gemm.mc} or
 * {@code tessera.gemm.nc} override it (MC and NC are rounded up to the tile).
 */
record F32GemmConfig(F32GemmMicrokernel kernel, F32GemmBlocking blocking, F32GemmCpu cpu, boolean overridden) {
    static final F32GemmConfig DEFAULT = fromSystemProperties(F32GemmCpu.detect());

    static F32GemmConfig fromSystemProperties(F32GemmCpu cpu) {
        String tile = System.getProperty("tessera.gemm.tile");
        F32GemmMicrokernel k = F32GemmTileSelector.select(cpu, tile);
        F32GemmBlocking auto = F32GemmBlocking.forCaches(k, cpu.l1d(), cpu.l2(), cpu.l3());
        int kc = intProperty("tessera.gemm.kc", auto.kc()), mc = intProperty("tessera.gemm.mc", auto.mc());
        int nc = intProperty("tessera.gemm.nc", auto.nc());
        boolean overridden = tile != null || kc != auto.kc() || mc != auto.mc() || nc != auto.nc();
        return new F32GemmConfig(k, new F32GemmBlocking(kc, mc, nc).fitTo(k), cpu, overridden);
    }

    /** A configuration for an explicit kernel and blocking (tests, benchmarks of other tiles). */
    static F32GemmConfig of(F32GemmMicrokernel k, int kc, int mc, int nc) {
        return new F32GemmConfig(k, new F32GemmBlocking(kc, mc, nc).fitTo(k), DEFAULT.cpu, true);
    }

    private static int intProperty(String name, int fallback) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            int x = Integer.parseInt(v.trim());
            if (x >= 1) return x;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a positive integer, got '" + v + "'");
    }

    /**
     * One line for tables, e.g. {@code f32-gemm-6x2v-avx512 (512-bit, 32 registers) KC=256 MC=480 NC=4096
     * (L1d 32 KiB, L2 1024 KiB, L3 32768 KiB)}, with {@code , set by tessera.gemm.*} when overridden.
     */
    String describe() {
        return "f32-gemm-" + kernel.shape() + "-" + cpu.isa() + " (" + kernel.bits() + "-bit, " + cpu.registers()
                + " registers) KC=" + blocking.kc() + " MC=" + blocking.mc() + " NC=" + blocking.nc() + " (L1d "
                + (cpu.l1d() >> 10) + " KiB, L2 " + (cpu.l2() >> 10) + " KiB, L3 " + (cpu.l3() >> 10) + " KiB"
                + (overridden ? ", set by tessera.gemm.*)" : ")");
    }
}
