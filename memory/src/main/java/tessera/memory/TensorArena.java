package tessera.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic lifetime for off-heap memory: every tensor allocated from the arena is freed when it closes.
 * Shared (usable from any thread). Allocations are 64-byte aligned and padded to whole 64-byte lines so that
 * vector loops may run to the end of a buffer. Use with try-with-resources.
 */
public final class TensorArena implements AutoCloseable {
    /** Alignment and padding of every allocation, in bytes (one cache line, one AVX-512 vector). */
    public static final long ALIGNMENT = 64;

    private final Arena arena = Arena.ofShared();
    private final BlockCache cache;
    private final List<BlockCache.Block> blocks;
    private long bytes;
    private boolean closed;

    /** An arena whose allocations are freed to the system when it closes. */
    public TensorArena() {
        this(null);
    }

    /**
     * A recycling arena when {@code cache} is non-null: allocations come from the cache when it holds a block of the
     * same size (zero-filled again), and go back to it when the arena closes. Tensors allocated here still become
     * inaccessible when the arena closes (each block is seen through a view bound to this arena's lifetime). Views
     * are a restricted operation: without {@code --enable-native-access} for Tessera the JVM prints a warning once;
     * where restricted operations are denied the arena allocates and frees as a plain one.
     */
    public TensorArena(BlockCache cache) {
        this.cache = cache != null && Recycling.ALLOWED ? cache : null;
        // sized for a whole step up front: growing it from empty allocated five arrays per step
        this.blocks = this.cache == null ? null : new ArrayList<>(Math.max(10, this.cache.peakBlocks()));
    }

    /**
     * {@code -Dtessera.memory.poison=true}: uninitialized allocations are filled with NaN (all bits set) instead of
     * being left as they were, so that an op reading memory it did not write fails loudly (the tests run this way).
     */
    private static final boolean POISON = Boolean.getBoolean("tessera.memory.poison");

    /**
     * Whether this JVM lets a block be viewed with another arena's lifetime (restricted methods allowed); probed when
     * the first recycling arena is made, so plain arenas never call a restricted method.
     */
    private static final class Recycling {
        static final boolean ALLOWED = probe();

        private static boolean probe() {
            try (Arena probe = Arena.ofConfined()) {
                MemorySegment.ofAddress(0).reinterpret(0, probe, null);
                return true;
            } catch (IllegalCallerException | UnsupportedOperationException denied) {
                return false;
            }
        }
    }

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

    /**
     * A contiguous tensor whose contents are unspecified — in a recycling arena, whatever the reused block last held
     * (a plain arena zero-fills anyway) — for an output the caller overwrites entirely before anything reads it.
     */
    public Tensor allocateUninitialized(DType type, int... shape) {
        long count = Shapes.numel(shape);
        MemorySegment seg = allocateBytes(Shapes.bytes(count, type), false);
        return new Tensor(seg, type, shape.clone(), Shapes.contiguousStrides(shape), 0, Layout.defaultFor(shape.length), null);
    }

    /**
     * A contiguous tensor of {@code like}'s dtype and shape whose contents are unspecified (as
     * {@link #allocateUninitialized}); it shares like's immutable shape array (and its strides when like is contiguous),
     * so no arrays are allocated for it — the autograd engine's gradients and outputs on allocation-free paths.
     */
    public Tensor allocateUninitializedLike(Tensor like) {
        return allocateLike(like, false);
    }

    /** As {@link #allocateUninitializedLike}, zero-filled. */
    public Tensor allocateLike(Tensor like) {
        return allocateLike(like, true);
    }

    private Tensor allocateLike(Tensor like, boolean zero) {
        int[] shape = like.shapeArray();
        long count = Shapes.numel(shape);
        MemorySegment seg = allocateBytes(Shapes.bytes(count, like.dtype()), zero);
        long[] strides = like.hasContiguousStrides() ? like.stridesArray() : Shapes.contiguousStrides(shape);
        return new Tensor(seg, like.dtype(), shape, strides, 0, Layout.defaultFor(shape.length), null);
    }

    /** Raw zeroed bytes, aligned and padded as described above. */
    public MemorySegment allocateBytes(long size) {
        return allocateBytes(size, true);
    }

    private synchronized MemorySegment allocateBytes(long size, boolean zero) {
        if (closed) throw new IllegalStateException("TensorArena is closed: cannot allocate " + size + " bytes");
        if (size < 0) throw new IllegalArgumentException("allocation size " + size + " is negative");
        if (size > Long.MAX_VALUE - ALIGNMENT) throw new IllegalArgumentException("allocation size " + size + " bytes is too large");
        long padded = Math.max(ALIGNMENT, (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        MemorySegment seg;
        try {
            seg = cache == null ? arena.allocate(padded, ALIGNMENT) : recycled(padded, zero);
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException("cannot allocate " + size + " bytes off-heap: " + e.getMessage());
        }
        bytes += padded;
        MemoryStats.allocated(padded);
        return size == 0 ? seg.asSlice(0, 0) : seg; // seg is exactly padded bytes: no slice to allocate
    }

    /** A block of {@code padded} bytes from the cache (or new, zeroed), seen with this arena's lifetime. */
    private MemorySegment recycled(long padded, boolean zero) {
        BlockCache.Block b = cache.take(padded);
        if (b == null) {
            Arena owner = Arena.ofShared();
            b = new BlockCache.Block(owner, owner.allocate(padded, ALIGNMENT));
        } else if (zero) {
            b.raw().fill((byte) 0);
        }
        if (!zero && POISON) b.raw().fill((byte) 0xFF); // NaN everywhere: a reader of memory nobody wrote shows up
        blocks.add(b);
        return b.raw().reinterpret(padded, arena, null);
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
        if (cache != null) {
            cache.release(blocks);
            blocks.clear();
        }
        MemoryStats.freed(bytes);
        bytes = 0;
    }
}
