package tessera.memory;

import java.util.concurrent.atomic.AtomicLong;

/** Process-wide count of off-heap bytes held by live Tessera arenas, for leak tests and reports. */
public final class MemoryStats {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private MemoryStats() {}

    static void allocated(long bytes) {
        long now = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
    }

    static void freed(long bytes) { LIVE.addAndGet(-bytes); }

    /** Off-heap bytes currently allocated through {@link TensorArena}s and not yet freed. */
    public static long liveBytes() { return LIVE.get(); }

    /** Highest value {@link #liveBytes()} has reached. */
    public static long peakBytes() { return PEAK.get(); }
}
