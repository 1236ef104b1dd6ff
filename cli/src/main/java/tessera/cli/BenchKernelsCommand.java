package tessera.cli;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tessera bench kernels [--quick] [REGEX...]}: runs the JMH kernel benchmarks of {@code bench/target/benchmarks.jar}
 * in a subprocess ({@code java -jar benchmarks.jar ... -rf json -rff <file>}), then prints one table of every result:
 * kernel, params, threads, GFLOP/s or GB/s, % of the measured peak. {@code PeakFmaBench} always runs too, since it is
 * the denominator of "% of peak".
 *
 * <p>Which benchmarks appear and how they are converted is decided by naming conventions documented on
 * {@link JmhResultTable}: a benchmark class in {@code tessera.bench} declares {@code public static double
 * flops(String method, Map<String,String> params)} (GFLOP/s rows) or {@code bytes(...)} (GB/s rows); JMH params named
 * {@code threads} give the compute pool's thread count.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Run the JMH kernel benchmarks (FMA peak, GEMM, conv, pooling, ...) and print a GFLOP/s / GB/s table.")
public final class BenchKernelsCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "short JMH settings (1 warm-up and 2 measurement iterations of 0.5 s)")
    boolean quick;
    @Option(names = "--prof-gc", description = "also measure allocation per operation (JMH -prof gc)")
    boolean profGc;
    @Option(names = "--jar", description = "the JMH jar (default: <tessera root>/bench/target/benchmarks.jar)")
    Path jar;
    @Option(names = "--json", description = "keep the JMH JSON results in this file (default: a temporary file)")
    Path json;
    @Option(names = "--from-json", description = "do not run anything: print the table of an existing JMH JSON result file")
    Path fromJson;
    @Option(names = "--jmh", split = " ", description = "extra JMH arguments, e.g. --jmh \"-p size=1024\"")
    List<String> jmhExtra = new ArrayList<>();
    @Parameters(arity = "0..*", paramLabel = "REGEX",
            description = "benchmark name patterns (default: every benchmark in tessera.bench)")
    List<String> patterns = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path root = Path.of(System.getProperty("tessera.root", "."));
        Path jarPath = jar != null ? jar : root.resolve("bench/target/benchmarks.jar");
        Path results = fromJson;
        if (results == null) {
            if (!Files.isRegularFile(jarPath)) {
                System.err.println("tessera bench kernels: " + jarPath + " not found; build it with ./mvnw -DskipTests install");
                return 1;
            }
            results = json != null ? json : Files.createTempFile("tessera-jmh-", ".json");
            int code = runJmh(jarPath, results);
            if (code != 0) {
                System.err.println("tessera bench kernels: JMH exited with code " + code);
                return code;
            }
        }
        String text = Files.readString(results);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jarPath.toUri().toURL()}, getClass().getClassLoader())) {
            JmhResultTable table = new JmhResultTable(Files.isRegularFile(jarPath) ? loader : getClass().getClassLoader());
            table.add(JmhResultTable.parse(text));
            System.out.println();
            System.out.printf("Tessera kernel benchmarks (%d cores, JMH results in %s)%n", Runtime.getRuntime().availableProcessors(), results);
            System.out.printf("GEMM: %s (override with -Dtessera.gemm.tile=MRxNVv, -Dtessera.gemm.kc/mc/nc=N)%n%n",
                    tessera.kernels.gemm.Gemm.kernelInfo());
            table.print(System.out);
        }
        return 0;
    }

    private int runJmh(Path jarPath, Path results) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", jarPath.toString()));
        if (patterns.isEmpty()) {
            cmd.add("tessera\\.bench\\..*");
        } else {
            cmd.addAll(patterns);
            cmd.add("PeakFmaBench");
        }
        List<String> defaults = quick ? List.of("-f", "1", "-wi", "1", "-i", "2", "-w", "500ms", "-r", "500ms")
                : List.of("-f", "1", "-wi", "3", "-i", "5", "-w", "1s", "-r", "1s");
        for (int d = 0; d < defaults.size(); d += 2) {
            if (!jmhExtra.contains(defaults.get(d))) cmd.addAll(defaults.subList(d, d + 2)); // --jmh settings win
        }
        if (profGc) cmd.addAll(List.of("-prof", "gc"));
        cmd.addAll(jmhExtra);
        cmd.addAll(List.of("-rf", "json", "-rff", results.toAbsolutePath().toString()));
        System.err.println("tessera bench kernels: " + String.join(" ", cmd));
        Process p = new ProcessBuilder(cmd).inheritIO().directory(new File(".")).start();
        return p.waitFor();
    }
}
