package tessera.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tessera.cli.bench.BaselineComparison;
import tessera.cli.bench.BenchProgress;
import tessera.cli.bench.JmhProcess;
import tessera.cli.bench.JmhResultTable;
import tessera.cli.bench.KernelSuite;
import tessera.cli.bench.KernelTable;
import tessera.cli.bench.KernelsChart;
import tessera.cli.bench.MarkdownReport;
import tessera.cli.bench.ReportHeader;
import tessera.cli.bench.ResultsFile;
import tessera.cli.bench.SkippedRows;
import tessera.cli.bench.TextTable;
import tessera.cli.bench.TorchComparison;

/**
 * {@code tessera bench kernels [--quick] [--out DIR] [--baseline OLD.json] [--compare-torch] [REGEX...]}: runs the
 * JMH kernel suite of {@code bench/target/benchmarks.jar} in child JVMs ({@link KernelSuite}) behind a progress bar,
 * the raw JMH log going to a file, then prints the report header and one table of every result: GFLOP/s or GB/s and
 * % of the peak measured in the same run. Combinations that did not run are listed once with the reason. With
 * {@code --out}: {@code report.md}, {@code results.json} and {@code kernels.png}.
 *
 * <p>Scores are converted by the conventions documented on {@link JmhResultTable}.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Run the JMH kernel benchmarks (FMA peak, GEMM, conv, pooling, ...) and report GFLOP/s / GB/s and %% of peak.")
public final class BenchKernelsCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "24 cases instead of every parameter (the same 8 s warm-up and 5 s measurement per case)")
    boolean quick;
    @Option(names = "--out", paramLabel = "DIR", description = "write report.md, results.json, kernels.png and jmh.log here")
    Path out;
    @Option(names = "--baseline", paramLabel = "OLD.json", description = "a previous results.json: adds new/old ratios and flags regressions")
    Path baseline;
    @Option(names = "--noise", defaultValue = "0.05", paramLabel = "FRACTION",
            description = "with --baseline: smallest change flagged, beyond JMH's error bars (default 0.05)")
    double noise;
    @Option(names = "--compare-torch", description = "add PyTorch's GFLOP/s for the conv and GEMM rows (needs python3 with torch)")
    boolean compareTorch;
    @Option(names = "--python", paramLabel = "EXE", description = "with --compare-torch: the Python with torch (default: python3, then /usr/bin/python3)")
    String python;
    @Option(names = "--verbose", description = "stream JMH's output instead of the progress bar")
    boolean verbose;
    @Option(names = "--prof-gc", description = "also measure allocation per operation (JMH -prof gc)")
    boolean profGc;
    @Option(names = "--jar", description = "the JMH jar (default: <tessera root>/bench/target/benchmarks.jar)")
    Path jar;
    @Option(names = "--from-json", paramLabel = "FILE", description = "run nothing: report an existing results.json or JMH JSON file")
    Path fromJson;
    @Option(names = "--jmh", split = " ", description = "extra JMH arguments for every job, e.g. --jmh \"-i 10\"")
    List<String> jmhExtra = new ArrayList<>();
    @Parameters(arity = "0..*", paramLabel = "REGEX",
            description = "benchmark patterns, e.g. GemmBench.nn (default: the whole suite)")
    List<String> patterns = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintStream con = System.out;
        Path root = Path.of(System.getProperty("tessera.root", "."));
        Path jarPath = jar != null ? jar : root.resolve("bench/target/benchmarks.jar");
        if (out != null) Files.createDirectories(out);
        if (fromJson == null && !Files.isRegularFile(jarPath)) {
            System.err.println("tessera bench kernels: " + jarPath + " not found; build it with ./mvnw -DskipTests package");
            return 1;
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jarPath.toUri().toURL()}, getClass().getClassLoader())) {
            ResultsFile run;
            if (fromJson != null) {
                run = ResultsFile.read(fromJson);
            } else {
                run = runSuite(jarPath, root, loader, con);
                if (run == null) return 1;
            }
            JmhResultTable table = new JmhResultTable(loader);
            table.add(run.jmh());
            SkippedRows.removeFrom(table, run.skipped());
            ReportHeader header = run.header() != null ? run.header()
                    : ReportHeader.detect(root, suiteName(), null, table, null);
            BaselineComparison base = null;
            if (baseline != null) {
                ResultsFile old = ResultsFile.read(baseline);
                JmhResultTable oldTable = new JmhResultTable(loader);
                oldTable.add(old.jmh());
                SkippedRows.removeFrom(oldTable, old.skipped());
                base = new BaselineComparison(oldTable, old.header(), noise);
            }
            Map<String, Double> torch = compareTorch ? torch(root, table, loader, run) : null;
            if (torch != null && !torch.isEmpty()) run = new ResultsFile(header, run.jmh(), run.skipped(), torch);
            KernelTable kt = KernelTable.build(table, run.skipped(), base, torch);
            if (out != null) writeFiles(new ResultsFile(header, run.jmh(), run.skipped(), torch == null ? Map.of() : torch),
                    table, kt, base);
            con.println();
            header.lines().forEach(con::println);
            if (base != null) {
                con.println("Baseline " + (base.header() == null ? baseline + " (no header)" : base.header().oneLine()));
                List<String> gone = base.onlyInBaseline(table);
                if (!gone.isEmpty()) con.println("         " + gone.size() + " baseline rows not measured in this run");
            }
            con.println();
            TextTable.print(kt, con);
        }
        return 0;
    }

    private String suiteName() { return patterns.isEmpty() ? (quick ? "quick" : "full") : (quick ? "quick" : "full") + " " + patterns; }

    /** Runs every job of the suite; null when JMH failed. */
    private ResultsFile runSuite(Path jarPath, Path root, ClassLoader loader, PrintStream con)
            throws IOException, InterruptedException {
        List<KernelSuite> jobs = KernelSuite.select(quick ? KernelSuite.quick() : KernelSuite.full(), patterns);
        JmhProcess jmh = new JmhProcess(jarPath, con);
        Double load = ReportHeader.loadNow();
        List<List<String>> args = new ArrayList<>();
        int total = 0;
        for (KernelSuite j : jobs) {
            List<String> a = jmhArgs(j);
            args.add(a);
            total += jmh.count(a);
        }
        Path log = out != null ? out.resolve("jmh.log") : Files.createTempFile("tessera-jmh-", ".log");
        con.println("bench kernels: " + total + " benchmarks in " + jobs.size() + " JMH runs; JMH log: " + log.toAbsolutePath());
        List<Object> results = new ArrayList<>();
        boolean terminal = BenchProgress.isTerminal();
        try (Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
             BenchProgress progress = new BenchProgress(con, total, terminal && !verbose)) {
            Consumer<String> lines = verbose ? l -> { progress.accept(l); con.println(l); } : progress;
            for (List<String> a : args) {
                Path json = Files.createTempFile("tessera-jmh-", ".json");
                int code = jmh.run(a, json, w, lines);
                if (code != 0) {
                    System.err.println("tessera bench kernels: JMH exited with code " + code + "; see " + log);
                    return null;
                }
                if (Files.size(json) > 0) {
                    if (JmhResultTable.parse(Files.readString(json)) instanceof List<?> l) results.addAll(l);
                }
                Files.deleteIfExists(json);
            }
        }
        String text = Files.readString(log);
        JmhResultTable table = new JmhResultTable(loader);
        table.add(results);
        return new ResultsFile(ReportHeader.detect(root, suiteName(), gemmKernel(text), table, load), results,
                SkippedRows.fromLog(text), Map.of());
    }

    /** The GEMM microkernel line GemmBench's forks printed, or null. */
    static String gemmKernel(String log) {
        String tag = "gemm kernel: "; // after JMH's "# Warmup Iteration   1: " on the same line
        return log.lines().filter(l -> l.contains(tag)).map(l -> l.substring(l.indexOf(tag) + tag.length()).trim())
                .findFirst().orElse(null);
    }

    private List<String> jmhArgs(KernelSuite j) {
        List<String> a = KernelSuite.withoutParams(j.jmhArgs(), KernelSuite.paramNames(jmhExtra)); // --jmh -p wins
        List<String> timing = KernelSuite.TIMING;
        for (int d = 0; d < timing.size(); d += 2) {
            if (!jmhExtra.contains(timing.get(d))) a.addAll(timing.subList(d, d + 2)); // --jmh settings win
        }
        if (profGc) a.addAll(List.of("-prof", "gc"));
        a.addAll(jmhExtra);
        return a;
    }

    private Map<String, Double> torch(Path root, JmhResultTable table, ClassLoader loader, ResultsFile run)
            throws InterruptedException {
        if (!run.torch().isEmpty()) return run.torch(); // recorded with the results
        System.out.println("bench kernels: measuring PyTorch on the conv and GEMM shapes (tools/torch_kernels.py)…");
        String py = TorchComparison.findPython(python != null ? List.of(python) : List.of("python3", "/usr/bin/python3"));
        if (py == null) {
            System.out.println("bench kernels: --compare-torch left out: no Python with torch (" + (python != null ? python
                    : "python3, /usr/bin/python3") + "); PyTorch is optional");
            return null;
        }
        String[] why = new String[1];
        Map<String, Double> t = TorchComparison.measure(py, root.resolve("tools/torch_kernels.py"), table, loader, why);
        if (t == null) System.out.println("bench kernels: --compare-torch left out: " + why[0]);
        return t;
    }

    private void writeFiles(ResultsFile results, JmhResultTable table, KernelTable kt, BaselineComparison base)
            throws IOException {
        results.write(out.resolve("results.json"));
        boolean chart = KernelsChart.write(table, out.resolve("kernels.png"),
                "Tessera kernels: % of the measured FMA peak — " + results.header().cpu());
        Files.writeString(out.resolve("report.md"), MarkdownReport.render(results.header(), kt, base, chart ? "kernels.png" : null));
        System.out.println("bench kernels: wrote " + out.resolve("report.md") + ", results.json" + (chart ? ", kernels.png" : ""));
    }
}
