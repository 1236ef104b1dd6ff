package tessera.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.memory.Tensor;

/**
 * Opt-in timing of backward passes by op, for finding where a training step's backward time goes: while a profile is
 * open on a thread, every backward pass that thread runs times each node's backward function and each sum of two
 * gradients of one value ({@link #GRADIENT_SUM}) with {@link System#nanoTime()}, and adds it to the entry of that op
 * and gradient shape. With no profile open a pass only checks a thread-local once. Use with try-with-resources:
 * <pre>
 *   try (BackwardProfile p = BackwardProfile.open()) { ...steps...; p.entries() }
 * </pre>
 * Not for steady-state measurements of the step itself: while open, each node allocates its entry key.
 */
public final class BackwardProfile implements AutoCloseable {
    /** The op name under which the sums of several gradients of one value are recorded. */
    public static final String GRADIENT_SUM = "gradient sum";

    private static final ThreadLocal<BackwardProfile> OPEN = new ThreadLocal<>();

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final BackwardProfile outer;

    /** Time spent in one op at one gradient shape: total nanoseconds over {@code calls} calls. */
    public record Entry(String op, List<Integer> gradientShape, long nanos, long calls) {}

    private BackwardProfile(BackwardProfile outer) { this.outer = outer; }

    /** Opens a profile on the calling thread (replacing any open one until this one closes). */
    public static BackwardProfile open() {
        BackwardProfile p = new BackwardProfile(OPEN.get());
        OPEN.set(p);
        return p;
    }

    /** The calling thread's open profile, or null. */
    static BackwardProfile current() { return OPEN.get(); }

    /** Adds {@code nanos} to the entry of {@code op} at {@code gradient}'s shape. */
    void add(String op, Tensor gradient, long nanos) {
        int[] shape = gradient.shape();
        String key = op + Arrays.toString(shape);
        Entry e = entries.get(key);
        List<Integer> dims = e != null ? e.gradientShape() : Arrays.stream(shape).boxed().toList();
        entries.put(key, new Entry(op, dims, (e == null ? 0 : e.nanos()) + nanos, (e == null ? 0 : e.calls()) + 1));
    }

    /** The entries so far, in the order their op and shape first ran. */
    public List<Entry> entries() { return new ArrayList<>(entries.values()); }

    /** Total nanoseconds of all entries. */
    public long totalNanos() { return entries.values().stream().mapToLong(Entry::nanos).sum(); }

    /** Stops recording on this thread (the profile open before this one, if any, records again). */
    @Override
    public void close() {
        if (OPEN.get() == this) {
            if (outer == null) OPEN.remove();
            else OPEN.set(outer);
        }
    }
}
