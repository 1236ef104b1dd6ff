package tessera.cli;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.onnx.batching.BatcherOptions;
import tessera.serve.ModelServer;

/**
 * {@code tessera serve --model NAME=PATH.onnx [--model …] [--host H] [--port P] [--max-batch B] [--max-delay-us D]
 * [--queue Q] [--threads T] …}: the Open Inference Protocol (KServe v2 REST) model server. Prints
 * {@code listening on http://HOST:PORT} once ready; SIGTERM or Ctrl-C drains it (new requests 503, accepted ones
 * finish) and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve ONNX models over the Open Inference Protocol v2 (KServe v2 REST) with dynamic batching.",
                "Endpoints: GET /v2/health/live, /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready, /metrics;",
                "POST /v2/models/NAME/infer (JSON or binary tensors), /v2/models/NAME/image (PNG/JPEG body).",
                "SIGTERM or Ctrl-C: stop accepting, finish accepted requests, exit 0."})
public final class ServeCommand implements Callable<Integer> {
    /** Helidon logs its start-up and shutdown at INFO; the command prints its own lines. Held so the level sticks. */
    private static final java.util.logging.Logger HELIDON_LOG = java.util.logging.Logger.getLogger("io.helidon");

    @Option(names = "--model", required = true, paramLabel = "NAME=PATH.onnx", description = "a model to serve (repeatable)") List<String> models;
    @Option(names = "--preprocess", paramLabel = "NAME=SPEC",
            description = "image preprocessing for NAME's /image path: 'imagenet', 'unit' (default: shorter side to H, center crop, pixels in [0,1]) or resize:N,mean:a/b/c,std:a/b/c,order:rgb|bgr (repeatable)")
    List<String> preprocess = new ArrayList<>();
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default 127.0.0.1, loopback only)") String host;
    @Option(names = "--port", defaultValue = "8000", description = "port (default 8000; 0 = any free port)") int port;
    @Option(names = "--max-batch", defaultValue = "8", description = "most images merged into one run (default 8)") int maxBatch;
    @Option(names = "--max-delay-us", defaultValue = "2000", description = "longest wait for a batch to fill, microseconds (default 2000)") long maxDelayUs;
    @Option(names = "--queue", defaultValue = "64", description = "requests waiting per model before 503 overloaded (default 64)") int queue;
    @Option(names = "--threads", defaultValue = "0", description = "intra-op compute threads (default: all cores)") int threads;
    @Option(names = "--timeout-ms", defaultValue = "30000", description = "a request not started within this many ms is answered 503 (default 30000)") long timeoutMs;
    @Option(names = "--concurrency", defaultValue = "2", description = "batches of one model running at once (default 2: while one batch waits for its requests' HTTP work, the other computes)") int concurrency;
    @Option(names = "--max-body-mb", defaultValue = "64", description = "largest request body in MiB; larger ones get 413 (default 64)") long maxBodyMb;
    @Option(names = "--body-timeout-s", defaultValue = "30",
            description = "a request body still arriving this many seconds after the request started gets 408 and its connection is closed; a body that stops arriving, or an answer the client stops reading, is cut off (default 30)")
    long bodyTimeoutS;
    @Option(names = "--grace-s", defaultValue = "30", description = "on SIGTERM, how long accepted requests may take to finish (default 30)") long graceS;
    @Option(names = "--no-warmup", description = "skip running every batch size once at start") boolean noWarmup;

    @Override
    public Integer call() {
        int[] code = {1};
        int rc = CliErrors.run("serve", () -> code[0] = serve());
        return rc != 0 ? rc : code[0];
    }

    private int serve() throws Exception {
        if (!Boolean.getBoolean("tessera.debug")) HELIDON_LOG.setLevel(java.util.logging.Level.WARNING);
        Map<String, String> pre = new LinkedHashMap<>();
        for (String p : preprocess) {
            String[] kv = split(p, "--preprocess");
            pre.put(kv[0], kv[1]);
        }
        List<ModelServer.ModelSource> sources = new ArrayList<>();
        for (String m : models) {
            String[] kv = split(m, "--model");
            Path file = Path.of(kv[1]);
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--model " + m + ": file not found: " + file);
            sources.add(new ModelServer.ModelSource(kv[0], file, pre.remove(kv[0])));
        }
        if (!pre.isEmpty()) throw new IllegalArgumentException("--preprocess names models that are not served: " + pre.keySet());
        if (maxDelayUs < 0) throw new IllegalArgumentException("--max-delay-us must be >= 0");
        if (timeoutMs < 1) throw new IllegalArgumentException("--timeout-ms must be >= 1");
        if (maxBodyMb < 1) throw new IllegalArgumentException("--max-body-mb must be >= 1");
        if (bodyTimeoutS < 1) throw new IllegalArgumentException("--body-timeout-s must be >= 1");
        if (graceS < 0) throw new IllegalArgumentException("--grace-s must be >= 0");
        BatcherOptions batching = new BatcherOptions(maxBatch, Duration.ofNanos(maxDelayUs * 1000), queue, Duration.ofMillis(timeoutMs), concurrency,
                BatcherOptions.DEFAULT.maxInputShapes());
        ModelServer.Config cfg = new ModelServer.Config(host, port, sources, threads, batching, maxBodyMb << 20,
                Duration.ofSeconds(bodyTimeoutS), !noWarmup);

        boolean loopback = true;
        for (InetAddress a : InetAddress.getAllByName(host)) loopback &= a.isLoopbackAddress();
        if (!loopback) System.err.println("tessera serve: warning: --host " + host + " is not a loopback address; anyone who can reach it can use the models");

        CountDownLatch stop = new CountDownLatch(1);
        installSignals(stop);
        ModelServer server = ModelServer.start(cfg);
        Thread hook = new Thread(() -> {
            stop.countDown();
            server.shutdown(Duration.ofSeconds(graceS)); // reached only when the JVM exits for another reason than SIGTERM/INT
        }, "tessera-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("listening on " + server.url());
        System.out.flush();
        stop.await();
        System.err.println("tessera serve: shutting down: finishing accepted requests (up to " + graceS + " s)");
        boolean clean = server.shutdown(Duration.ofSeconds(graceS));
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyExiting) {
            // the JVM is exiting anyway
        }
        System.err.println("tessera serve: stopped after " + server.served() + " inference requests" + (clean ? "" : "; some requests were still running after the grace period"));
        return clean ? 0 : 1;
    }

    private static String[] split(String arg, String option) {
        int eq = arg.indexOf('=');
        if (eq <= 0 || eq == arg.length() - 1) throw new IllegalArgumentException(option + " '" + arg + "' must be NAME=VALUE");
        return new String[] {arg.substring(0, eq), arg.substring(eq + 1)};
    }

    /** SIGTERM and SIGINT release {@code stop}, so the server drains and the command returns 0 instead of dying with 143. */
    @SuppressWarnings("restriction")
    private static void installSignals(CountDownLatch stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // this platform or JVM (e.g. -Xrs) does not let us handle it; the shutdown hook still drains
            }
        }
    }
}
