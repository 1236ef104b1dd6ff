package tessera.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The project-wide compute pool: a fixed set of daemon worker threads created once, shared by every kernel.
 *
 * <p>{@link #parallelFor(int, IntConsumer)} runs {@code body(0..tasks-1)} on the workers and the calling thread and
 * returns when all are done. It allocates nothing per call. When the pool is already busy (another caller thread,
 * or a nested call from inside a task) the tasks run inline on the caller: many service threads calling at once
 * therefore each run single-threaded instead of queueing, which is what a throughput-bound service wants.
 *
 * <p>Thread count: {@code -Dtessera.threads=N}, {@link #setThreads(int)}, default {@code availableProcessors()}.
 * Kernels must partition work so that results do not depend on the thread count (each task owns disjoint outputs).
 */
public final class ComputePool {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static volatile Worker[] workers = new Worker[0];
    private static volatile int threads = defaultThreads();

    // state of the current job (guarded by LOCK for writers; read by workers after seeing the generation bump)
    private static volatile IntConsumer job;
    private static volatile int jobTasks;
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final AtomicInteger DONE = new AtomicInteger();
    private static volatile Thread waiter;
    private static volatile Throwable failure;
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private ComputePool() {}

    private static int defaultThreads() {
        String p = System.getProperty("tessera.threads");
        if (p != null) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the default
            }
            throw new IllegalArgumentException("system property tessera.threads='" + p + "' must be an integer >= 1");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Number of threads a parallel kernel uses (workers + the caller). */
    public static int threads() { return threads; }

    /** Sets the thread count used by later calls (>= 1). */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("thread count " + n + " must be >= 1");
        LOCK.lock();
        try {
            threads = n;
        } finally {
            LOCK.unlock();
        }
    }

    /** Runs {@code body.accept(i)} for i in [0, tasks), in parallel when the pool is free. */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        int t = threads;
        if (tasks == 1 || t == 1 || INSIDE.get() || !LOCK.tryLock()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        try {
            runLocked(tasks, body, Math.min(t, tasks));
        } finally {
            LOCK.unlock();
        }
    }

    private static void runLocked(int tasks, IntConsumer body, int useThreads) {
        ensureWorkers(threads - 1);
        failure = null;
        job = body;
        jobTasks = tasks;
        NEXT.set(0);
        DONE.set(0);
        waiter = Thread.currentThread();
        Worker[] ws = workers;
        for (int i = 0; i < useThreads - 1 && i < ws.length; i++) ws[i].wake();
        INSIDE.set(Boolean.TRUE);
        try {
            drain(body, tasks);
        } finally {
            INSIDE.set(Boolean.FALSE);
        }
        int spins = 0;
        while (DONE.get() < tasks) {
            if (++spins < 2000) Thread.onSpinWait();
            else LockSupport.parkNanos(20_000);
        }
        job = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException(f);
        }
    }

    static void drain(IntConsumer body, int tasks) {
        int i;
        while ((i = NEXT.getAndIncrement()) < tasks) {
            try {
                body.accept(i);
            } catch (Throwable e) {
                failure = e;
            } finally {
                if (DONE.incrementAndGet() == tasks) {
                    Thread w = waiter;
                    if (w != null) LockSupport.unpark(w);
                }
            }
        }
    }

    private static void ensureWorkers(int n) {
        if (workers.length >= n) return;
        Worker[] ws = java.util.Arrays.copyOf(workers, n);
        for (int i = workers.length; i < n; i++) {
            ws[i] = new Worker("tessera-compute-" + i);
            ws[i].start();
        }
        workers = ws;
    }

    private static final class Worker extends Thread {
        private volatile boolean pending;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void wake() {
            pending = true;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            INSIDE.set(Boolean.TRUE);
            while (true) {
                int spins = 0;
                while (!pending) {
                    if (++spins < 5000) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
                pending = false;
                IntConsumer body = job;
                if (body != null) drain(body, jobTasks);
            }
        }
    }
}
