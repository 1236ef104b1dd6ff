package tessera.kernels.gemm;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.incubator.vector.FloatVector;

/**
 * What the GEMM tile and blocking choice needs to know about the CPU it runs on: the preferred vector width, the
 * number of vector registers C2 may use, and the data cache sizes of one core (bytes).
 *
 * @param arch      {@code os.arch}, e.g. {@code amd64} or {@code aarch64}
 * @param bits      width of {@link FloatVector#SPECIES_PREFERRED} in bits
 * @param registers vector registers: 32 on aarch64 and on x86 with AVX-512 enabled in the JVM, else 16
 * @param isa       a short label: {@code avx512}, {@code avx2}, {@code sse}, {@code neon}, {@code sve} or the arch
 */
record F32GemmCpu(String arch, int bits, int registers, String isa, long l1d, long l2, long l3) {
    /** Used when /sys does not say (not Linux, or a container hiding it). */
    static final long DEFAULT_L1D = 32 << 10, DEFAULT_L2 = 1 << 20, DEFAULT_L3 = 8 << 20;

    /** The machine this JVM runs on. */
    static F32GemmCpu detect() {
        String arch = System.getProperty("os.arch", "");
        int bits = tessera.kernels.Species.FLOAT.vectorBitSize();
        boolean arm = arch.equals("aarch64") || arch.equals("arm64");
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
        int registers = arm || (x86 && (bits >= 512 || useAvx() >= 3)) ? 32 : 16;
        String isa = arm ? (bits > 128 ? "sve" : "neon")
                : !x86 ? arch : registers == 32 ? "avx512" : bits >= 256 ? "avx2" : "sse";
        return new F32GemmCpu(arch, bits, registers, isa, cacheBytes(1, "Data", DEFAULT_L1D),
                cacheBytes(2, "Unified", DEFAULT_L2), cacheBytes(3, "Unified", DEFAULT_L3));
    }

    /**
     * HotSpot's {@code UseAVX} level (3 = AVX-512, whose 32 registers C2 also uses for 256-bit vectors), or 0 if the
     * VM does not tell. Only asked when the preferred species is narrower than 512 bits.
     */
    private static int useAvx() {
        try {
            return Integer.parseInt(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("UseAVX").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    /** Size of cpu0's cache of this level and type from /sys/devices/system/cpu/cpu0/cache, or {@code fallback}. */
    static long cacheBytes(int level, String type, long fallback) {
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            Path idx = dir.resolve("index" + i);
            try {
                if (!Files.isDirectory(idx)) continue;
                if (Integer.parseInt(Files.readString(idx.resolve("level")).trim()) != level) continue;
                if (!Files.readString(idx.resolve("type")).trim().equals(type)) continue;
                long size = parseSize(Files.readString(idx.resolve("size")).trim());
                if (size > 0) return size;
            } catch (IOException | RuntimeException e) {
                // an unreadable or odd entry: try the next one, else the fallback
            }
        }
        return fallback;
    }

    /** "32K", "1024K", "32M", "512" → bytes; -1 if unparsable. */
    static long parseSize(String s) {
        if (s.isEmpty()) return -1;
        char unit = Character.toUpperCase(s.charAt(s.length() - 1));
        long mul = unit == 'K' ? 1L << 10 : unit == 'M' ? 1L << 20 : unit == 'G' ? 1L << 30 : 1;
        String digits = mul == 1 ? s : s.substring(0, s.length() - 1);
        try {
            return Long.parseLong(digits) * mul;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
