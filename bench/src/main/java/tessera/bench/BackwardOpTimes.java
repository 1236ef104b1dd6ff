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

    /** The op and gradient shape at one position of the backward order ("conv2d[16, 64, 16, 16]"), its total nanoseconds. */
    record Position(String opAndShape, long nanos) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    /** Per position in a step's backward order (when steps are marked with {@link #startStep}): op and shape, time. */
    private final List<String> positionNames = new ArrayList<>();
    private long[] positionNanos = new long[16];
    private int position;
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
        if (position == positionNanos.length) positionNanos = Arrays.copyOf(positionNanos, 2 * position);
        if (position == positionNames.size()) positionNames.add(key);
        positionNanos[position++] += nanos;
        Entry e = entries.get(key);
        entries.put(key, e == null ? new Entry(op, Arrays.stream(shape).boxed().toList(), nanos, 1)
                : new Entry(op, e.gradientShape(), e.nanos() + nanos, e.calls() + 1));
    }

    /**
     * Marks the start of a step's backward: later ops are timed by position too, which tells apart ops of one shape
     * (a block's convolutions) that the entries add up. Every step must run the same ops in the same order.
     */
    void startStep() { position = 0; }

    /** Op and gradient shape at each position of the backward order, with its total nanoseconds over the steps. */
    List<Position> byPosition() {
        List<Position> list = new ArrayList<>();
        for (int i = 0; i < positionNames.size(); i++) list.add(new Position(positionNames.get(i), positionNanos[i]));
        return list;
    }

    /** The entries so far, in the order their op and shape first ran. */
    List<Entry> entries() { return new ArrayList<>(entries.values()); }

    /** Total nanoseconds of all entries. */
    long totalNanos() { return entries.values().stream().mapToLong(Entry::nanos).sum(); }
}
