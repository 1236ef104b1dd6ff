package tessera.fuzz;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tessera.memory.Messages;

/**
 * Runs fuzz cases against one {@link FuzzTarget} in-process, each on a worker thread under a time budget, and
 * classifies every case: <b>accepted</b>, <b>rejected</b> with one of the target's clear exception types (message
 * present, one line, bounded), or a <b>failure</b> — any other throwable (NPE, index out of bounds, negative array
 * size, class cast, stack overflow, OutOfMemoryError), an unclear message, or a timeout. A failure is saved to the
 * output directory as a reproducer (the input bytes plus a text file naming seed, case and outcome) and run again
 * in a child JVM ({@code java … tessera.fuzz.Fuzzer TARGET FILE}), whose outcome, crash included, is recorded too.
 *
 * <p>Case {@code i} of seed {@code s} is a pure function of (target, s, i), so a run is reproducible.
 */
public final class Fuzzer {
    public enum Kind { ACCEPTED, REJECTED, FAILURE }

    /** The outcome of one case. */
    public record Outcome(Kind kind, String detail, Throwable error) {}

    /** Totals of a run. */
    public record Totals(String target, long cases, long accepted, long rejected, long failures, List<String> failureFiles) {
        /** The closing line: {@code fuzz TARGET: N cases, A accepted, R rejected with a clear error, F failures}. */
        public String line() {
            return "fuzz " + target + ": " + cases + " cases, " + accepted + " accepted, " + rejected + " rejected with a clear error, "
                    + failures + " failures";
        }
    }

    private final FuzzTarget target;
    private final long seed;
    private final long caseMillis;
    private final Path out;
    private final PrintStream log;
    private final boolean childRerun;
    private ExecutorService worker = newWorker();

    /**
     * @param caseMillis time budget of one case
     * @param out        directory for reproducers (created on the first failure); null keeps nothing
     * @param log        where failures are reported as they happen (one line each)
     * @param childRerun whether a failing case is run again in a child JVM
     */
    public Fuzzer(FuzzTarget target, long seed, long caseMillis, Path out, PrintStream log, boolean childRerun) {
        this.target = target;
        this.seed = seed;
        this.caseMillis = caseMillis;
        this.out = out;
        this.log = log;
        this.childRerun = childRerun;
    }

    /** Every built-in target by name: onnx, npy, idx, safetensors, spec. */
    public static FuzzTarget target(String name) {
        return switch (name) {
            case "onnx" -> new OnnxTarget();
            case "npy" -> new NpyTarget();
            case "idx" -> new IdxTarget();
            case "safetensors" -> new SafeTensorsTarget();
            case "spec" -> new SpecTarget();
            default -> throw new IllegalArgumentException("unknown fuzz target '" + name + "': expected onnx, npy, idx, safetensors or spec");
        };
    }

    public static final List<String> TARGETS = List.of("onnx", "npy", "idx", "safetensors", "spec");

    /** The input of case {@code i}: a seed input with structure-aware and/or byte-level mutations. */
    public byte[] input(long i) {
        Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L + target.name().hashCode());
        List<byte[]> seeds = target.seeds();
        byte[] b = seeds.get(rnd.nextInt(seeds.size()));
        int mode = rnd.nextInt(10);
        if (mode < 6 || mode == 9) {
            int n = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(3) : 0);
            for (int k = 0; k < n; k++) b = target.mutateStructure(b, rnd);
        }
        if (mode >= 6) b = ByteMutations.mutate(b, rnd);
        return b;
    }

    /**
     * Runs cases 0, 1, … until {@code cases} have run or {@code seconds} have passed (≤ 0: no time bound).
     * The seed inputs run first, and each must be accepted (else they count as failures).
     */
    public Totals run(long cases, double seconds) {
        long deadline = seconds > 0 ? System.nanoTime() + (long) (seconds * 1e9) : Long.MAX_VALUE;
        long n = 0, acc = 0, rej = 0, fail = 0;
        List<String> files = new ArrayList<>();
        List<byte[]> seeds = target.seeds();
        for (int s = 0; s < seeds.size(); s++) {
            Outcome o = runOne(seeds.get(s));
            if (o.kind() != Kind.ACCEPTED) {
                fail++;
                log.println("fuzz " + target.name() + ": seed input " + s + " is not accepted: " + o.detail());
            }
        }
        try {
            for (long i = 0; i < cases && System.nanoTime() < deadline; i++) {
                byte[] input = input(i);
                Outcome o = runOne(input);
                n++;
                switch (o.kind()) {
                    case ACCEPTED -> acc++;
                    case REJECTED -> rej++;
                    case FAILURE -> {
                        fail++;
                        String f = save(i, input, o);
                        if (f != null) files.add(f);
                        log.println("fuzz " + target.name() + ": failure in case " + i + " (seed " + seed + "): " + o.detail()
                                + (f != null ? "; reproducer " + f : ""));
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        return new Totals(target.name(), n, acc, rej, fail, List.copyOf(files));
    }

    /** Runs one input on the worker thread within the case budget and classifies the result. */
    public Outcome runOne(byte[] input) {
        Future<Outcome> f = worker.submit(() -> classify(target, input));
        try {
            return f.get(caseMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow(); // the stuck thread is a daemon; later cases get a fresh one
            worker = newWorker();
            return new Outcome(Kind.FAILURE, "timeout: still running after " + caseMillis + " ms", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("fuzzing interrupted", e);
        } catch (ExecutionException e) {
            return new Outcome(Kind.FAILURE, "worker error: " + e.getCause(), e.getCause());
        }
    }

    /** Runs {@code input} on the calling thread and classifies the outcome. */
    public static Outcome classify(FuzzTarget target, byte[] input) {
        try {
            target.exercise(input);
            return new Outcome(Kind.ACCEPTED, "accepted", null);
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError && !(t instanceof OutOfMemoryError) && !(t instanceof StackOverflowError)) {
                throw (VirtualMachineError) t; // internal JVM error: let it crash loudly
            }
            boolean declared = false;
            for (Class<? extends Throwable> c : target.clearExceptions()) declared |= c.isInstance(t);
            if (!declared) return new Outcome(Kind.FAILURE, describe(t), t);
            if (!Messages.isOneLine(t.getMessage()) || t.getMessage().isBlank()) {
                return new Outcome(Kind.FAILURE, "unclear message (not one bounded line): " + describe(t), t);
            }
            return new Outcome(Kind.REJECTED, t.getClass().getSimpleName() + ": " + t.getMessage(), t);
        }
    }

    private static String describe(Throwable t) {
        StringBuilder b = new StringBuilder(t.getClass().getName());
        if (t.getMessage() != null) b.append(": ").append(Messages.oneLine(t.getMessage()));
        StackTraceElement[] st = t.getStackTrace();
        for (int k = 0; k < Math.min(3, st.length); k++) b.append(k == 0 ? " at " : " < ").append(st[k]);
        return b.toString();
    }

    private String save(long i, byte[] input, Outcome o) {
        if (out == null) return null;
        try {
            Files.createDirectories(out);
            Path bin = out.resolve(target.name() + "-seed" + seed + "-case" + i + target.extension());
            Files.write(bin, input);
            StringBuilder txt = new StringBuilder();
            txt.append("target: ").append(target.name()).append('\n').append("seed: ").append(seed).append('\n')
                    .append("case: ").append(i).append('\n').append("outcome: ").append(o.detail()).append('\n');
            if (o.error() != null) {
                java.io.StringWriter sw = new java.io.StringWriter();
                o.error().printStackTrace(new java.io.PrintWriter(sw));
                txt.append("stack trace:\n").append(sw);
            }
            if (childRerun) txt.append("child JVM rerun: ").append(rerunInChild(target.name(), bin)).append('\n');
            txt.append("reproduce: ./tessera fuzz --target ").append(target.name()).append(" --replay ").append(bin).append('\n');
            Files.writeString(out.resolve(target.name() + "-seed" + seed + "-case" + i + ".txt"), txt.toString());
            return bin.toString();
        } catch (IOException e) {
            log.println("fuzz " + target.name() + ": could not save reproducer of case " + i + ": " + e.getMessage());
            return null;
        }
    }

    /** Runs the reproducer in a fresh JVM (heap 512 MiB, off-heap 1 GiB, 60 s) and describes what happened. */
    static String rerunInChild(String target, Path file) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss8m",
                "-Xmx512m", "-XX:MaxDirectMemorySize=1g", "-XX:-OmitStackTraceInFastThrow", "-cp", System.getProperty("java.class.path"), Fuzzer.class.getName(),
                target, file.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] output;
            boolean done = p.waitFor(60, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
                return "timed out after 60 s";
            }
            output = p.getInputStream().readAllBytes();
            String text = new String(output, StandardCharsets.UTF_8).strip();
            String last = text.lines().filter(l -> l.startsWith("outcome:")).reduce((a, b) -> b).orElse(text.lines().reduce((a, b) -> b).orElse(""));
            return "exit status " + p.exitValue() + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": crash)" : "")
                    + "; " + Messages.oneLine(last);
        } catch (IOException e) {
            return "could not start: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "fuzz-case", 8L << 20);
            t.setDaemon(true);
            return t;
        });
    }

    /** Child-JVM entry point: {@code Fuzzer TARGET FILE} runs one input and prints {@code outcome: KIND detail}; exit 1 on failure. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: tessera.fuzz.Fuzzer TARGET FILE");
            System.exit(2);
        }
        Outcome o = classify(target(args[0]), Files.readAllBytes(Path.of(args[1])));
        System.out.println("outcome: " + o.kind() + " " + Messages.oneLine(o.detail()));
        System.exit(o.kind() == Kind.FAILURE ? 1 : 0);
    }
}
