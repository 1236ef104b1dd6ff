package tessera.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A deterministic lifetime for off-heap memory: every tensor allocated from the arena is freed when it closes.
 * Shared (usable from any thread). Allocations are 64-byte aligned and padded to whole 64-byte lines so that
 * vector loops may run to the end of a buffer. Use with try-with-resources.
 */
public final class TensorArena implements AutoCloseable {
    /** Alignment and padding of every allocation, in bytes (one cache line, one AVX-512 vector). */
    public static final long ALIGNMENT = 64;

    private final Arena arena = Arena.ofShared();
    private long bytes;
    private boolean closed;

    /** A zero-filled contiguous tensor of {@code shape}; dimensions may be 0. */
    public Tensor allocate(DType type, int... shape) {
        return allocate(type, Layout.defaultFor(shape.length), shape);
    }

    /** A zero-filled contiguous tensor with an explicit layout tag. */
    public Tensor allocate(DType type, Layout layout, int... shape) {
        long count = Shapes.numel(shape);
        MemorySegment seg = allocateBytes(Shapes.bytes(count, type));
        return new Tensor(seg, type, shape.clone(), Shapes.contiguousStrides(shape), 0, layout, null);
    }

    /** Raw zeroed bytes, aligned and padded as described above. */
    public synchronized MemorySegment allocateBytes(long size) {
        if (closed) throw new IllegalStateException("TensorArena is closed: cannot allocate " + size + " bytes");
        if (size < 0) throw new IllegalArgumentException("allocation size " + size + " is negative");
        if (size > Long.MAX_VALUE - ALIGNMENT) throw new IllegalArgumentException("allocation size " + size + " bytes is too large");
        long padded = Math.max(ALIGNMENT, (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        MemorySegment seg;
        try {
            seg = arena.allocate(padded, ALIGNMENT);
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException("cannot allocate " + size + " bytes off-heap: " + e.getMessage());
        }
        bytes += padded;
        MemoryStats.allocated(padded);
        return seg.asSlice(0, size == 0 ? 0 : padded);
    }

    /** Bytes currently held by this arena. */
    public synchronized long bytes() { return bytes; }

    public synchronized boolean isClosed() { return closed; }

    /** Frees every allocation at once; idempotent. Later access to its tensors throws {@link IllegalStateException}. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
        MemoryStats.freed(bytes);
        bytes = 0;
    }
}
