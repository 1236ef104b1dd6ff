package tessera.memory;

import java.lang.foreign.MemorySegment;

/**
 * Scratch memory that kernels reuse across calls so that steady-state inference allocates nothing.
 *
 * <p>A workspace has numbered slots; {@link #floats(int, long)} returns the slot's buffer, growing it (by at least
 * 1.5×) only when a request is larger than anything seen before. Contents are undefined on return. A workspace is
 * confined to one thread at a time; {@link #ofCurrentThread()} gives each thread its own, which is how kernels
 * running on the compute pool get scratch.
 */
public final class Workspace implements AutoCloseable {
    /** Number of independent slots (one kernel call uses a few). */
    public static final int SLOTS = 8;

    private static final ThreadLocal<Workspace> PER_THREAD = ThreadLocal.withInitial(Workspace::new);

    private TensorArena[] arenas = new TensorArena[SLOTS];
    private final MemorySegment[] buffers = new MemorySegment[SLOTS];

    /** The calling thread's workspace (created on first use, lives as long as the thread). */
    public static Workspace ofCurrentThread() { return PER_THREAD.get(); }

    /** A 64-byte aligned buffer of at least {@code count} floats in slot {@code slot}. */
    public MemorySegment floats(int slot, long count) { return bytes(slot, Shapes.bytes(count, DType.F32)); }

    /** A 64-byte aligned buffer of at least {@code count} doubles in slot {@code slot}. */
    public MemorySegment doubles(int slot, long count) { return bytes(slot, Shapes.bytes(count, DType.F64)); }

    /** A 64-byte aligned buffer of at least {@code size} bytes in slot {@code slot}. */
    public MemorySegment bytes(int slot, long size) {
        if (slot < 0 || slot >= SLOTS) throw new IllegalArgumentException("workspace slot " + slot + " is outside [0, " + SLOTS + ")");
        if (size < 0) throw new IllegalArgumentException("workspace request of " + size + " bytes is negative");
        MemorySegment b = buffers[slot];
        if (b != null && b.byteSize() >= size) return b;
        if (arenas == null) throw new IllegalStateException("workspace is closed: cannot hand out " + size + " bytes");
        if (arenas[slot] != null) arenas[slot].close();
        long grown = b == null ? size : Math.max(size, b.byteSize() + b.byteSize() / 2);
        arenas[slot] = new TensorArena();
        buffers[slot] = arenas[slot].allocateBytes(Math.max(grown, 64));
        return buffers[slot];
    }

    /** Off-heap bytes held. */
    public long bytesHeld() {
        long n = 0;
        for (MemorySegment b : buffers) if (b != null) n += b.byteSize();
        return n;
    }

    /** Frees every slot. */
    @Override
    public void close() {
        if (arenas == null) return;
        for (TensorArena a : arenas) if (a != null) a.close();
        java.util.Arrays.fill(buffers, null);
        arenas = null;
    }
}
