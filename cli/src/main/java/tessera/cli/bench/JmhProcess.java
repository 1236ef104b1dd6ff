package tessera.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the shaded JMH jar in a child JVM (the same {@code java} as this one, with the Vector API flags): lists the
 * cases of a job ({@code -lp}) and runs them with {@code -rf json}, every output line going to the log and to a
 * listener. When another JMH run holds JMH's lock ({@code /tmp/jmh.lock}: benchmarks must not share the CPU) it
 * waits and retries rather than ignoring the lock.
 */
public final class JmhProcess {
    private static final String LOCKED = "Unable to acquire the JMH lock";
    private final Path jar;
    private final PrintStream status;

    /** {@code status} receives the one-line "waiting for the JMH lock" notice. */
    public JmhProcess(Path jar, PrintStream status) {
        this.jar = jar;
        this.status = status;
    }

    /** The number of benchmark × parameter combinations {@code args} selects. */
    public int count(List<String> args) throws IOException, InterruptedException {
        List<String> lines = new ArrayList<>();
        List<String> cmd = new ArrayList<>(args);
        cmd.add("-lp");
        int code = exec(cmd, lines::add);
        if (code != 0) throw new IOException("JMH -lp exited with " + code + ": " + String.join(" / ", lines));
        return countCases(lines);
    }

    /** Parses {@code -lp} output: each benchmark line times the product of its params' value counts. */
    static int countCases(List<String> lines) {
        int total = 0, current = 0;
        for (String l : lines) {
            if (l.startsWith("  param ")) {
                int open = l.indexOf('{'), close = l.lastIndexOf('}');
                current *= close > open + 1 ? l.substring(open + 1, close).split(", ").length : 1;
            } else if (!l.isBlank() && !l.startsWith(" ") && !l.startsWith("Benchmarks:") && !l.startsWith("WARNING")) {
                total += current;
                current = 1;
            }
        }
        return total + current;
    }

    /** Runs a job, writing JSON results to {@code json}; every line goes to {@code log} and {@code lines}. */
    public int run(List<String> args, Path json, Writer log, Consumer<String> lines) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(args);
        cmd.addAll(List.of("-rf", "json", "-rff", json.toAbsolutePath().toString()));
        boolean told = false;
        while (true) {
            boolean[] locked = {false};
            int code = exec(cmd, l -> {
                if (l.contains(LOCKED)) locked[0] = true;
                try {
                    log.write(l);
                    log.write('\n');
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                lines.accept(l);
            });
            log.flush();
            if (!locked[0]) return code;
            if (!told) status.println("bench kernels: another JMH run holds /tmp/jmh.lock; waiting for it to finish…");
            told = true;
            Thread.sleep(5000);
        }
    }

    private int exec(List<String> args, Consumer<String> lines) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", jar.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) lines.accept(l);
        }
        return p.waitFor();
    }
}
