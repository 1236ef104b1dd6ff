package tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link ComputePool#beginJob}: a job alone uses the workers; a job started while another runs executes its parallel
 * loops on its own thread only, and is back to normal after {@link ComputePool#endJob}. No timing: the two tasks of
 * a loop wait for each other, so they can only finish on two threads (the waits are hang guards).
 */
class ComputePoolJobTest {
    /**
     * Runs a two-task loop whose tasks each wait until both have started: true when they ran at once on two threads
     * (the calling thread blocks in whichever task it took, so only a worker can take the other).
     */
    private static boolean workerJoins() {
        CountDownLatch bothStarted = new CountDownLatch(2);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ComputePool.parallelFor(2, i -> {
            seen.add(Thread.currentThread());
            bothStarted.countDown();
            try {
                if (!bothStarted.await(60, TimeUnit.SECONDS)) failure.set(new AssertionError("hang guard: the other task never started"));
            } catch (InterruptedException e) {
                failure.set(e);
            }
        });
        if (failure.get() != null) throw new AssertionError(failure.get());
        return seen.size() == 2;
    }

    /** The threads that ran the tasks of one loop. */
    private static Set<Thread> threadsOf(int tasks) {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        ComputePool.parallelFor(tasks, i -> seen.add(Thread.currentThread()));
        return seen;
    }

    @Test
    void aJobStartedWhileAnotherRunsIsSingleThreaded() throws Exception {
        int saved = ComputePool.threads();
        ComputePool.setThreads(2);
        try {
            CountDownLatch firstStarted = new CountDownLatch(1), secondDone = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread first = new Thread(() -> {
                boolean single = ComputePool.beginJob();
                try {
                    if (single || ComputePool.runsInline()) throw new AssertionError("the first job alone must not be single-threaded");
                    if (!workerJoins()) throw new AssertionError("the first job alone shares its loops with a worker");
                    firstStarted.countDown();
                    if (!secondDone.await(60, TimeUnit.SECONDS)) throw new AssertionError("hang guard: second job never finished");
                } catch (Throwable e) {
                    failure.set(e);
                    firstStarted.countDown();
                } finally {
                    ComputePool.endJob(single);
                }
            });
            first.start();
            assertTrue(firstStarted.await(60, TimeUnit.SECONDS), "hang guard: first job never started");
            boolean single = ComputePool.beginJob();
            try {
                assertTrue(single, "a job that starts while another runs is single-threaded");
                assertTrue(ComputePool.runsInline(), "its loops run inline");
                assertEquals(Set.of(Thread.currentThread()), threadsOf(64), "its loops run on the calling thread only");
            } finally {
                ComputePool.endJob(single);
                secondDone.countDown();
            }
            assertFalse(ComputePool.runsInline(), "endJob restores the calling thread");
            first.join(60_000);
            if (failure.get() != null) throw new AssertionError(failure.get());
            // after both ended, a job alone shares its loops with a worker again
            boolean alone = ComputePool.beginJob();
            try {
                assertFalse(alone);
                assertTrue(workerJoins(), "a job alone shares its loops with a worker");
            } finally {
                ComputePool.endJob(alone);
            }
        } finally {
            ComputePool.setThreads(saved);
        }
    }
}
