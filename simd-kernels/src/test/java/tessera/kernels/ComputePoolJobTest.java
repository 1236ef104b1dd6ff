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
 * {@link ComputePool#beginJob}: a job alone may use the workers; a job started while another runs executes its
 * parallel loops on its own thread only, and is back to normal after {@link ComputePool#endJob}.
 */
class ComputePoolJobTest {
    /** The threads that ran the tasks of one parallelFor. */
    private static Set<Thread> threadsOf(int tasks) {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        ComputePool.parallelFor(tasks, i -> {
            seen.add(Thread.currentThread());
            long until = System.nanoTime() + 200_000; // long enough that a free worker claims some tasks
            while (System.nanoTime() < until) Thread.onSpinWait();
        });
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
                    if (single) throw new AssertionError("the first job alone must not be single-threaded");
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
                for (int round = 0; round < 5; round++)
                    assertEquals(Set.of(Thread.currentThread()), threadsOf(64), "its loops run on the calling thread only");
            } finally {
                ComputePool.endJob(single);
                secondDone.countDown();
            }
            first.join(60_000);
            if (failure.get() != null) throw new AssertionError(failure.get());
            // after both ended, a loop may use the worker again (and the calling thread is not stuck inline)
            boolean alone = ComputePool.beginJob();
            try {
                assertFalse(alone);
                boolean usedWorker = false;
                for (int round = 0; round < 50 && !usedWorker; round++) usedWorker = threadsOf(64).size() > 1;
                assertTrue(usedWorker, "a job alone shares its loops with the worker thread");
            } finally {
                ComputePool.endJob(alone);
            }
        } finally {
            ComputePool.setThreads(saved);
        }
    }
}
