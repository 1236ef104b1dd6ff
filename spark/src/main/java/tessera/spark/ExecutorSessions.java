package tessera.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkFiles;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * One {@link InferenceSession} per model per JVM (per Spark executor): loaded on first use by whichever task
 * thread gets there first, shared by every task thread of the executor, closed by a JVM shutdown hook.
 *
 * <p>The number of loads is counted ({@link #loads(String)}), so tests check "once per executor" rather than assume it.
 */
public final class ExecutorSessions {
    private record Key(String model, int threads) {}

    private static final Map<Key, InferenceSession> SESSIONS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();
    private static final AtomicInteger HOOKS = new AtomicInteger();

    private ExecutorSessions() {}

    /** The session for {@code modelPath} with {@code threads} intra-op threads, loading it if this JVM has none yet. */
    public static InferenceSession get(String modelPath, int threads) {
        return SESSIONS.computeIfAbsent(new Key(modelPath, threads), k -> {
            Path file = resolve(k.model());
            InferenceSession s = InferenceSession.load(file, SessionOptions.DEFAULT.withThreads(k.threads()));
            LOADS.computeIfAbsent(k.model(), m -> new AtomicInteger()).incrementAndGet();
            if (HOOKS.getAndIncrement() == 0) {
                Runtime.getRuntime().addShutdownHook(new Thread(ExecutorSessions::closeAll, "tessera-sessions-close"));
            }
            return s;
        });
    }

    /** How many times this JVM has loaded {@code modelPath} (every thread count together). */
    public static int loads(String modelPath) {
        AtomicInteger n = LOADS.get(modelPath);
        return n == null ? 0 : n.get();
    }

    /** Closes and forgets every session of this JVM (the shutdown hook; also for tests and long-lived drivers). */
    public static synchronized void closeAll() {
        for (var it = SESSIONS.values().iterator(); it.hasNext(); ) {
            it.next().close();
            it.remove();
        }
    }

    /** A local path as given; otherwise the file shipped to this executor under the same file name. */
    static Path resolve(String modelPath) {
        Path p = Path.of(modelPath);
        if (Files.isRegularFile(p)) return p;
        String name = p.getFileName().toString();
        try {
            Path shipped = Path.of(SparkFiles.get(name));
            if (Files.isRegularFile(shipped)) return shipped;
        } catch (RuntimeException ignored) {
            // no SparkContext/SparkEnv in this JVM: fall through to the error below
        }
        throw new IllegalArgumentException("model file " + modelPath + " not found on this executor, nor shipped as '" + name
                + "' (spark-submit --files " + modelPath + ", or SparkContext.addFile)");
    }
}
