package tessera.memory;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Scratch memory that kernels reuse across calls so that steady-state inference allocates nothing.
 *
 * <p>Each kernel declares the scratch buffers it needs as named {@link Slot}s, once, in a static field
 * ({@code static final Workspace.Slot COLUMNS = Workspace.slot("conv.im2col.columns")}). Every declared slot has
 * its own buffer, so two kernels — or a kernel and the kernel it calls — never hand out the same memory unless
 * they use the same {@code Slot} object. {@link #floats(Slot, long)} returns the slot's buffer, growing it (by at
 * least 1.5×) only when a request is larger than anything seen before; contents are undefined on return. A
 * workspace is confined to one thread at a time; {@link #ofCurrentThread()} gives each thread its own, which is
 * how kernels running on the compute pool get scratch.
 *
 * <p>A thread's workspace is freed once the thread has ended: at once by {@link #releaseCurrentThread()} (long-lived
 * threads that own a session call it as they stop), otherwise by the next {@link #freeEndedThreads()}, which runs
 * whenever another thread gets its first workspace. The memory is in shared arenas, which the garbage collector never
 * frees, so without this every short-lived thread that ran a kernel (a virtual thread per request, a resized pool, a
 * closed batcher) would leave its scratch allocated for the life of the JVM. Freeing on those two events, rather than
 * when a garbage collector happens to run, keeps off-heap accounting deterministic.
 */
public final class Workspace implements AutoCloseable {

    /** A named scratch buffer; declare it once per use ({@link #slot(String)}) and keep it in a static final field. */
    public static final class Slot {
        private final String name;
        private final int index;

        private Slot(String name, int index) {
            this.name = name;
            this.index = index;
        }

        public String name() { return name; }

        @Override
        public String toString() { return "workspace slot '" + name + "'"; }
    }

    private static final List<Slot> DECLARED = new ArrayList<>();

    /**
     * Declares a new slot. Names are for messages and reports ({@link #describe()}); each call returns a distinct
     * slot, so call it once per use in a static initializer, not per kernel call.
     */
    public static synchronized Slot slot(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("workspace slot name must not be blank");
        Slot s = new Slot(name, DECLARED.size());
        DECLARED.add(s);
        return s;
    }

    /** The per-thread workspaces: which thread (weakly, so ended threads can be collected) owns which memory. */
    private record Owned(WeakReference<Thread> thread, Memory memory) {}

    private static final List<Owned> OWNED = new ArrayList<>(); // guarded by itself

    private static final ThreadLocal<Workspace> PER_THREAD = ThreadLocal.withInitial(() -> {
        freeEndedThreads();
        Workspace w = new Workspace();
        synchronized (OWNED) {
            OWNED.add(new Owned(new WeakReference<>(Thread.currentThread()), w.memory));
        }
        return w;
    });

    /** The buffers and their arenas: what is freed once the owning thread has ended. */
    private static final class Memory implements Runnable {
        TensorArena[] arenas = new TensorArena[8];
        MemorySegment[] buffers = new MemorySegment[8];

        synchronized long held() {
            long n = 0;
            if (buffers != null) for (MemorySegment b : buffers) if (b != null) n += b.byteSize();
            return n;
        }

        /** Frees every slot; idempotent. */
        @Override
        public synchronized void run() {
            if (arenas == null) return;
            for (TensorArena a : arenas) if (a != null) a.close();
            Arrays.fill(buffers, null);
            arenas = null;
        }
    }

    private final Memory memory = new Memory();

    /** The calling thread's workspace (created on first use, lives as long as the thread; see the class comment). */
    public static Workspace ofCurrentThread() { return PER_THREAD.get(); }

    /**
     * Frees the calling thread's workspace now instead of after the thread ends; a later kernel call on this thread
     * gets a fresh one. For threads that stop running kernels, e.g. as they exit.
     */
    public static void releaseCurrentThread() {
        Memory m = PER_THREAD.get().memory;
        m.run();
        PER_THREAD.remove();
        synchronized (OWNED) {
            OWNED.removeIf(o -> o.memory == m);
        }
    }

    /**
     * Frees the workspaces of threads that have ended (also done whenever a thread gets its first workspace) and
     * returns the off-heap bytes freed. Thread-safe: an ended thread cannot be using its workspace.
     */
    public static long freeEndedThreads() {
        long freed = 0;
        synchronized (OWNED) {
            for (Iterator<Owned> it = OWNED.iterator(); it.hasNext(); ) {
                Owned o = it.next();
                Thread t = o.thread.get();
                if (t != null && t.isAlive()) continue;
                freed += o.memory.held();
                o.memory.run();
                it.remove();
            }
        }
        return freed;
    }

    /** A 64-byte aligned buffer of at least {@code count} floats in {@code slot}. */
    public MemorySegment floats(Slot slot, long count) { return bytes(slot, Shapes.bytes(count, DType.F32)); }

    /** A 64-byte aligned buffer of at least {@code count} doubles in {@code slot}. */
    public MemorySegment doubles(Slot slot, long count) { return bytes(slot, Shapes.bytes(count, DType.F64)); }

    /** A 64-byte aligned buffer of at least {@code size} bytes in {@code slot}. */
    public MemorySegment bytes(Slot slot, long size) {
        if (slot == null) throw new IllegalArgumentException("workspace slot must not be null");
        if (size < 0) throw new IllegalArgumentException(slot + ": request of " + size + " bytes is negative");
        int i = slot.index;
        Memory m = memory;
        MemorySegment b = i < m.buffers.length ? m.buffers[i] : null;
        if (b != null && b.byteSize() >= size) return b;
        if (m.arenas == null) throw new IllegalStateException("workspace is closed: cannot hand out " + size + " bytes for " + slot);
        if (i >= m.buffers.length) {
            int n = Math.max(i + 1, m.buffers.length * 2);
            m.buffers = Arrays.copyOf(m.buffers, n);
            m.arenas = Arrays.copyOf(m.arenas, n);
        }
        if (m.arenas[i] != null) m.arenas[i].close();
        long grown = b == null ? size : Math.max(size, b.byteSize() + b.byteSize() / 2);
        m.arenas[i] = new TensorArena();
        m.buffers[i] = m.arenas[i].allocateBytes(Math.max(grown, 64));
        return m.buffers[i];
    }

    /** Off-heap bytes held. */
    public long bytesHeld() {
        long n = 0;
        for (MemorySegment b : memory.buffers) if (b != null) n += b.byteSize();
        return n;
    }

    /** The slots this workspace holds memory for, with their sizes ("conv.im2col.columns 1.2 MiB, ..."). */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        List<Slot> declared;
        synchronized (Workspace.class) { declared = List.copyOf(DECLARED); }
        for (Slot s : declared) {
            if (s.index < memory.buffers.length && memory.buffers[s.index] != null) {
                if (!sb.isEmpty()) sb.append(", ");
                sb.append(s.name).append(' ').append(String.format("%.1f KiB", memory.buffers[s.index].byteSize() / 1024.0));
            }
        }
        return sb.isEmpty() ? "(empty)" : sb.toString();
    }

    /** Frees every slot. */
    @Override
    public void close() { memory.run(); }
}
