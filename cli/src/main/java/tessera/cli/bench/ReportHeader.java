package tessera.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import tessera.kernels.Species;
import tessera.kernels.gemm.Gemm;

/**
 * What a reader needs to judge a kernel report: the machine (CPU, ISA flags, cores and threads), the vector species
 * and register count the kernels use, the GEMM microkernel, the JDK, the Tessera version and commit, the FMA peak
 * measured in the same run (1 thread and all threads) and the date. Stored in {@code results.json}, so a baseline
 * brings its own header.
 *
 * @param peak1       {@code PeakFmaBench.oneThread} in GFLOP/s, null when it did not run
 * @param peakAll     {@code PeakFmaBench.allThreads} in GFLOP/s, null when it did not run
 * @param peakThreads the thread count of {@code peakAll}
 * @param load        the 1-minute system load average just before the benchmarks started, null when unknown: on a
 *                    shared machine it says how much the figures were disturbed
 */
public record ReportHeader(String date, String suite, String tessera, String commit, String cpu, int cores, int threads,
        List<String> isa, String species, int vectorRegisters, String gemmKernel, String jdk, String jdkVendor,
        Double peak1, Double peakAll, int peakThreads, Double load) {

    /**
     * The header of a run on this machine: {@code gemmKernel} as the benchmark forks printed it (null: ask this JVM,
     * which runs with the same flags), peaks from {@code results}.
     */
    public static ReportHeader detect(Path root, String suite, String gemmKernel, JmhResultTable results, Double load) {
        CpuInfo c = CpuInfo.detect();
        String species = Species.FLOAT.vectorBitSize() + "-bit float (" + Species.FLOAT.length() + " lanes)";
        double p1 = results.peak(1), pAll = results.peak(Integer.MAX_VALUE);
        int allThreads = results.allThreadsCount();
        return new ReportHeader(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
                suite, version(), commit(root), c.model(), c.cores(), c.threads(), c.isa(), species,
                Gemm.vectorRegisters(), gemmKernel != null ? gemmKernel : Gemm.kernelInfo(),
                System.getProperty("java.version"), System.getProperty("java.vendor"),
                Double.isNaN(p1) ? null : p1, allThreads == 0 ? null : pAll, allThreads, load);
    }

    /** The 1-minute load average of this machine now, or null where the OS does not tell. */
    public static Double loadNow() {
        double l = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? null : l;
    }

    /**
     * Reasons to distrust the figures: a busy machine (load of at least half the hardware threads before the run), or
     * an all-threads FMA peak less than 1.5× the 1-thread one (other work shared the cores during the run).
     */
    public List<String> warnings() {
        List<String> w = new ArrayList<>();
        if (load != null && load >= 0.5 * threads) {
            w.add(String.format(Locale.ROOT, "busy machine: load average %.1f on %d hardware threads before the run", load, threads));
        }
        if (peak1 != null && peakAll != null && peakThreads >= 2 && peakAll < 1.5 * peak1) {
            w.add(String.format(Locale.ROOT, "the %d-thread FMA peak is only %.2f× the 1-thread one: other work shared the cores",
                    peakThreads, peakAll / peak1));
        }
        return w;
    }

    /** The lines printed above the table. */
    public List<String> lines() {
        List<String> l = new ArrayList<>();
        l.add("Tessera " + tessera + " (commit " + commit + "), " + suite + " suite, " + date);
        l.add("CPU     " + cpu + ": " + cores + " cores, " + threads + " threads; ISA " + isaText());
        l.add("Vectors " + species + ", " + vectorRegisters + " vector registers; GEMM " + gemmKernel);
        l.add("JDK     " + jdk + " (" + jdkVendor + ")");
        l.add("Peak    " + peakText() + " (measured FMA peak, PeakFmaBench in this run)");
        if (!warnings().isEmpty()) {
            l.add("Warning " + String.join("; ", warnings()) + " — figures are lower and noisier than on a quiet machine");
        }
        return l;
    }

    /** The same facts as a two-column Markdown table. */
    public String markdown() {
        return "| | |\n|---|---|\n"
                + "| Tessera | " + tessera + ", commit `" + commit + "` |\n"
                + "| date | " + date + " (" + suite + " suite) |\n"
                + "| CPU | " + cpu + ", " + cores + " cores, " + threads + " threads |\n"
                + "| ISA | " + isaText() + " |\n"
                + "| vectors | " + species + ", " + vectorRegisters + " vector registers |\n"
                + "| GEMM microkernel | `" + gemmKernel + "` |\n"
                + "| JDK | " + jdk + " (" + jdkVendor + ") |\n"
                + "| measured FMA peak | " + peakText() + " |\n"
                + (load == null ? "" : String.format(Locale.ROOT, "| load before the run | %.2f |%n", load))
                + warnings().stream().map(w -> "| **warning** | " + w + " |\n").reduce("", String::concat);
    }

    /** One line naming machine, ISA, JDK and commit, to tell two reports apart. */
    public String oneLine() {
        return cpu + " (" + isaText() + ", " + threads + " threads), JDK " + jdk + ", Tessera " + commit + ", " + date;
    }

    /** True when both reports ran on the same kind of machine and JDK (CPU model, ISA, threads, JDK version). */
    public boolean sameMachine(ReportHeader o) {
        return cpu.equals(o.cpu) && isa.equals(o.isa) && threads == o.threads && jdk.equals(o.jdk);
    }

    String isaText() { return isa.isEmpty() ? "(none of " + String.join(", ", CpuInfo.ISA_FLAGS) + ")" : String.join(" ", isa); }

    String peakText() {
        if (peak1 == null && peakAll == null) return "not measured (PeakFmaBench did not run)";
        StringBuilder b = new StringBuilder();
        if (peak1 != null) b.append(String.format(Locale.ROOT, "%.1f GFLOP/s on 1 thread", peak1));
        if (peakAll != null) {
            b.append(b.length() > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.1f GFLOP/s on %d threads", peakAll, peakThreads));
        }
        return b.toString();
    }

    /** The project version the build wrote into {@code tessera-version.properties}. */
    static String version() {
        try (InputStream in = ReportHeader.class.getResourceAsStream("/tessera-version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The short commit of the working tree at {@code root}, "+modified" when it has uncommitted changes. */
    static String commit(Path root) {
        String head = git(root, "rev-parse", "--short=10", "HEAD");
        if (head == null || head.isEmpty()) return "unknown";
        String status = git(root, "status", "--porcelain", "--untracked-files=no");
        return status != null && !status.isBlank() ? head + "+modified" : head;
    }

    private static String git(Path root, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", root.toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
