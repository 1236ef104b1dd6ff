package tessera.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.autograd.BackwardObserver;
import tessera.memory.Tensor;

/**
 * Wall time of backward passes by op and gradient shape: a {@link BackwardObserver} that times each step with
 * {@link System#nanoTime()} (a backward function that runs a backward pass of its own includes that pass's time).
 * Allocates per step, so it is for finding where the time goes, not for timing the step itself.
 */
final class BackwardOpTimes implements BackwardObserver {
    /** Time spent in one op at one gradient shape: total nanoseconds over {@code calls} calls. */
    record Entry(String op, List<Integer> gradientShape, long nanos, long calls) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long[] started = new long[8];
    private int depth;

    @Override
    public void before(String op, Tensor gradient) {
        if (depth == started.length) started = Arrays.copyOf(started, 2 * depth);
        started[depth++] = System.nanoTime();
    }

    @Override
    public void after(String op, Tensor gradient) {
        long nanos = System.nanoTime() - started[--depth];
        int[] shape = gradient.shape();
        String key = op + Arrays.toString(shape);
        Entry e = entries.get(key);
        entries.put(key, e == null ? new Entry(op, Arrays.stream(shape).boxed().toList(), nanos, 1)
                : new Entry(op, e.gradientShape(), e.nanos() + nanos, e.calls() + 1));
    }

    /** The entries so far, in the order their op and shape first ran. */
    List<Entry> entries() { return new ArrayList<>(entries.values()); }

    /** Total nanoseconds of all entries. */
    long totalNanos() { return entries.values().stream().mapToLong(Entry::nanos).sum(); }
}
