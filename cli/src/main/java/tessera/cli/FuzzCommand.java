package tessera.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.fuzz.FuzzTarget;
import tessera.fuzz.Fuzzer;
import tessera.memory.Messages;

/**
 * {@code ./tessera fuzz --target onnx|npy|idx|safetensors|spec}: structure-aware and byte-level fuzzing of one of the
 * library's readers, in-process under a per-case time budget. Ends with exactly one line
 * {@code fuzz TARGET: N cases, A accepted, R rejected with a clear error, F failures}; exit status 1 when F > 0.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = {"Fuzz one of the library's readers with structure-aware mutations (fields deleted, duplicated or retyped, "
                + "sizes 0/negative/2^40, mismatched data types, dangling or cyclic node inputs, duplicate names, huge attributes, "
                + "out-of-range opsets, wrongly typed and deeply nested JSON) and byte-level ones (flips, truncation, insertion).",
                "Every case is accepted, rejected with the library's own clear exception, or a failure (any other exception, "
                        + "an unclear message, OutOfMemoryError, a timeout); failures are saved to --out as reproducers and "
                        + "run again in a child JVM. Exit status 1 when there is a failure."})
public final class FuzzCommand implements Callable<Integer> {
    @Option(names = "--target", required = true, paramLabel = "TARGET", description = "onnx, npy, idx, safetensors or spec")
    String target;

    @Option(names = "--cases", paramLabel = "N", defaultValue = "1000", description = "number of cases (default ${DEFAULT-VALUE})")
    long cases;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--seconds", paramLabel = "T", defaultValue = "0", description = "stop after T seconds even if cases remain (default: no limit)")
    double seconds;

    @Option(names = "--case-millis", paramLabel = "MS", defaultValue = "10000", description = "time budget of one case (default ${DEFAULT-VALUE})")
    long caseMillis;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "fuzz-failures", description = "where reproducers go (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--replay", paramLabel = "FILE", description = "run one saved input instead of fuzzing and print its outcome")
    Path replay;

    @Override
    public Integer call() throws Exception {
        FuzzTarget t = Fuzzer.target(target);
        if (replay != null) {
            Fuzzer.Outcome o = Fuzzer.classify(t, Files.readAllBytes(replay));
            if (o.error() != null && o.kind() == Fuzzer.Kind.FAILURE) o.error().printStackTrace();
            System.out.println("fuzz " + t.name() + ": " + replay + ": " + o.kind().name().toLowerCase() + ": " + Messages.oneLine(o.detail()));
            return o.kind() == Fuzzer.Kind.FAILURE ? 1 : 0;
        }
        if (cases < 0) throw new IllegalArgumentException("--cases must be >= 0, got " + cases);
        if (caseMillis < 1) throw new IllegalArgumentException("--case-millis must be >= 1, got " + caseMillis);
        Fuzzer.Totals r = new Fuzzer(t, seed, caseMillis, out, System.err, true).run(cases, seconds);
        System.out.println(r.line());
        return r.failures() > 0 ? 1 : 0;
    }
}
