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
    // STATE packs (epoch << 44 | tasks << 22 | next claimed index) so that a worker can never claim an index of
    // one job while holding the body of another.
    private static volatile IntConsumer job;
    private static final java.util.concurrent.atomic.AtomicLong STATE = new java.util.concurrent.atomic.AtomicLong();
    private static final int MAX_TASKS = (1 << 22) - 1;
    private static long epoch;
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

    /** Jobs (see {@link #beginJob}) running now, across all threads. */
    private static final AtomicInteger ACTIVE_JOBS = new AtomicInteger();

    /**
     * Starts one of several independent jobs that may run at the same time on different threads (a batcher's
     * concurrent batches): the first job alone uses the whole pool; a job that starts while another is running runs
     * every {@link #parallelFor} of this thread single-threaded until {@link #endJob}. Two such jobs on two cores then
     * take one core each, instead of three threads (two callers and a worker) taking turns on two cores with the
     * waiting caller spinning. Returns whether this job runs single-threaded; pass it to {@link #endJob}.
     */
    public static boolean beginJob() {
        boolean single = ACTIVE_JOBS.incrementAndGet() > 1 && !INSIDE.get();
        if (single) INSIDE.set(Boolean.TRUE);
        return single;
    }

    /** Whether {@link #parallelFor} on this thread runs its tasks inline (inside a task, or in a single-threaded job). */
    static boolean runsInline() { return INSIDE.get(); }

    /** Ends a job started by {@link #beginJob} on this thread; {@code single} is what beginJob returned. */
    public static void endJob(boolean single) {
        ACTIVE_JOBS.decrementAndGet();
        if (single) INSIDE.set(Boolean.FALSE);
    }

    /** Runs {@code body.accept(i)} for i in [0, tasks), in parallel when the pool is free. */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        int t = threads;
        if (tasks > MAX_TASKS) throw new IllegalArgumentException("parallelFor: " + tasks + " tasks exceed the limit " + MAX_TASKS);
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
        DONE.set(0);
        epoch = (epoch + 1) & 0xFFFFF;
        long start = (epoch << 44) | ((long) tasks << 22);
        waiter = Thread.currentThread();
        STATE.set(start);
        Worker[] ws = workers;
        for (int i = 0; i < useThreads - 1 && i < ws.length; i++) ws[i].wake();
        INSIDE.set(Boolean.TRUE);
        try {
            drain(body, start);
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

    /** Claims and runs tasks of the job whose state started as {@code start}; stops when that job has none left. */
    static void drain(IntConsumer body, long start) {
        long jobKey = start >>> 22;
        int tasks = (int) ((start >>> 22) & MAX_TASKS);
        while (true) {
            long s = STATE.get();
            if ((s >>> 22) != jobKey) return;
            int i = (int) (s & MAX_TASKS);
            if (i >= tasks) return;
            if (!STATE.compareAndSet(s, s + 1)) continue;
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
                long s = STATE.get();
                IntConsumer body = job;
                if (body != null && (STATE.get() >>> 22) == (s >>> 22)) drain(body, s & ~(long) MAX_TASKS);
            }
        }
    }
}
