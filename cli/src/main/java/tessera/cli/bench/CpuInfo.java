package tessera.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The CPU as Linux's {@code /proc/cpuinfo} describes it: model name, physical cores, hardware threads and the ISA
 * flags that decide the kernels' speed. Elsewhere (or when the file is unreadable) only the thread count is known.
 */
public record CpuInfo(String model, int cores, int threads, List<String> isa) {
    /** The flags that matter to Tessera's kernels, in this order; {@code neon} is reported for aarch64's {@code asimd}. */
    static final List<String> ISA_FLAGS = List.of("avx2", "avx512f", "fma", "neon", "sve");

    /** This machine. */
    public static CpuInfo detect() {
        int logical = Runtime.getRuntime().availableProcessors();
        try {
            return parse(Files.readString(Path.of("/proc/cpuinfo")), logical);
        } catch (IOException | RuntimeException e) {
            return new CpuInfo(System.getProperty("os.arch", "unknown") + " CPU", logical, logical, List.of());
        }
    }

    /** Parses the text of {@code /proc/cpuinfo}; {@code logical} is used when it lists no processors. */
    static CpuInfo parse(String cpuinfo, int logical) {
        String model = null;
        Set<String> flags = new HashSet<>();
        Set<String> coreIds = new HashSet<>();
        int processors = 0, coresPerSocket = 0;
        String physical = "0";
        for (String line : cpuinfo.split("\\R")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
            switch (key) {
                case "processor" -> processors++;
                case "model name", "Model" -> { if (model == null && !value.isEmpty()) model = value; }
                case "flags", "Features" -> flags.addAll(List.of(value.split("\\s+")));
                case "physical id" -> physical = value;
                case "core id" -> coreIds.add(physical + "/" + value);
                case "cpu cores" -> coresPerSocket = Math.max(coresPerSocket, parseInt(value));
                default -> { }
            }
        }
        if (flags.contains("asimd")) flags.add("neon");
        List<String> isa = new ArrayList<>();
        for (String f : ISA_FLAGS) if (flags.contains(f)) isa.add(f);
        int threads = processors > 0 ? processors : logical;
        int cores = !coreIds.isEmpty() ? coreIds.size() : coresPerSocket > 0 ? coresPerSocket : threads;
        return new CpuInfo(model != null ? model : System.getProperty("os.arch", "unknown") + " CPU", cores, threads, isa);
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
