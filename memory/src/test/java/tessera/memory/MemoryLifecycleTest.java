package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Lifetimes, shape validation, seeded fills, workspace reuse and the live-bytes counter. */
class MemoryLifecycleTest {

    private static void assertClosedMessage(Executable e) {
        IllegalStateException ex = assertThrows(IllegalStateException.class, e);
        assertTrue(ex.getMessage().contains("freed") || ex.getMessage().contains("closed"), ex.getMessage());
    }

    @Test
    void touchingClosedMemoryThrowsIllegalStateWithAClearMessage() {
        Tensor owned = Tensor.zeros(2, 3);
        Tensor view = owned.transpose(0, 1);
        owned.close();
        owned.close(); // idempotent
        assertFalse(owned.isAlive());
        assertClosedMessage(() -> owned.getDouble(0, 0));
        assertClosedMessage(() -> view.set(1, 0, 0));
        assertClosedMessage(owned::segment);
        assertClosedMessage(owned::toDoubleArray);
        assertClosedMessage(() -> view.fill(2));
        assertClosedMessage(() -> RandomFill.uniform(view, 1, 0, 1));
        try (Tensor other = Tensor.zeros(2, 3)) {
            assertClosedMessage(() -> other.copyFrom(owned));
        }
        try (TensorArena scratch = new TensorArena()) {
            assertClosedMessage(() -> scratch.allocate(DType.F64, 2, 3).copyFrom(owned));
        }

        TensorArena arena = new TensorArena();
        Tensor t = arena.allocate(DType.F64, 4);
        arena.close();
        assertTrue(arena.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getDouble(1));
        assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("F64"), e.getMessage());
        assertClosedMessage(() -> arena.allocate(DType.F32, 2));

        Workspace ws = new Workspace();
        ws.floats(SLOT_A, 10);
        ws.close();
        assertClosedMessage(() -> ws.floats(SLOT_A, 10));
    }

    @Test
    void badShapesAreIllegalArguments() {
        TensorViewPropertiesTest.assertMessage(() -> Tensor.zeros(2, -3), "dimension 1", "[2, -3]", "negative");
        TensorViewPropertiesTest.assertMessage(() -> Tensor.zeros(1 << 30, 1 << 30, 1 << 30), "overflows a long");
        TensorViewPropertiesTest.assertMessage(() -> Tensor.zeros(DType.F64, 1 << 30, 1 << 30, 1 << 3), "overflow");
        TensorViewPropertiesTest.assertMessage(() -> Shapes.numelPositive("conv input", 1, 0, 3), "conv input", "dimension 1", "expected >= 1");
        TensorViewPropertiesTest.assertMessage(() -> Tensor.of(new float[5], 2, 3), "5 elements", "[2, 3]");
        try (TensorArena arena = new TensorArena()) {
            TensorViewPropertiesTest.assertMessage(() -> arena.allocate(DType.F32, -1), "negative");
            TensorViewPropertiesTest.assertMessage(() -> arena.allocateBytes(-5), "-5");
            TensorViewPropertiesTest.assertMessage(() -> arena.allocateBytes(Long.MAX_VALUE), "too large");
            MemorySegment seg = arena.allocateBytes(64);
            TensorViewPropertiesTest.assertMessage(() -> Tensor.wrap(seg, DType.F32, 10, 8), "64 bytes", "needs 72");
            TensorViewPropertiesTest.assertMessage(() -> Tensor.wrap(seg, DType.F32, -1, 2), "negative");
            TensorViewPropertiesTest.assertMessage(() -> Tensor.wrap(seg, DType.F32, Long.MAX_VALUE - 2, 8), "overflow");
        }
        try (Tensor t = Tensor.zeros(4, 6)) {
            TensorViewPropertiesTest.assertMessage(() -> t.reshape(1 << 30, 1 << 30, 1 << 30, 0), "overflows");
            TensorViewPropertiesTest.assertMessage(() -> t.expand(1 << 30, 1 << 30, 1 << 30, 4, 6), "overflows");
            TensorViewPropertiesTest.assertMessage(() -> t.narrow(0, 1, Integer.MAX_VALUE), "narrow");
            TensorViewPropertiesTest.assertMessage(() -> t.slice(1, 0, 6, Integer.MAX_VALUE).slice(1, 0, 2, 1), "size 1");
        }
        TensorViewPropertiesTest.assertMessage(() -> Workspace.ofCurrentThread().floats(null, 1), "slot");
        TensorViewPropertiesTest.assertMessage(() -> Workspace.ofCurrentThread().floats(SLOT_A, -1), "test.a", "negative");
    }

    @Test
    void randomFillIsDeterministicPerSeedOnAnyThread() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            qt().withExamples(50).forAll(longs().all(), integers().between(1, 300)).checkAssert((seed, n) -> {
                try (Tensor a = Tensor.zeros(DType.F64, n); Tensor b = Tensor.zeros(DType.F32, n); Tensor c = Tensor.zeros(DType.F64, n)) {
                    RandomFill.normal(a, seed, 0, 1);
                    Future<?> f = pool.submit(() -> RandomFill.normal(c, seed, 0, 1));
                    f.get();
                    assertArrayEquals(a.toDoubleArray(), c.toDoubleArray(), "same seed, other thread");
                    RandomFill.uniform(b, seed, -1, 1);
                    for (float v : b.toFloatArray()) assertTrue(v >= -1 && v < 1, "uniform value " + v);
                    try (Tensor d = Tensor.zeros(DType.F64, n)) {
                        RandomFill.normal(d, seed + 1, 0, 1);
                        assertNotEquals(a.toDoubleArray()[0], d.toDoubleArray()[0], "different seeds differ");
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        } finally {
            pool.shutdown();
        }
        try (Tensor big = Tensor.zeros(DType.F64, 20000)) { // moments of the normal fill
            double[] v = RandomFill.normal(big, 42, 3, 2).toDoubleArray();
            double mean = 0, var = 0;
            for (double x : v) mean += x / v.length;
            for (double x : v) var += (x - mean) * (x - mean) / (v.length - 1);
            assertEquals(3, mean, 0.05);
            assertEquals(4, var, 0.15);
        }
    }

    private static final Workspace.Slot SLOT_A = Workspace.slot("test.a"), SLOT_B = Workspace.slot("test.b");

    @Test
    void declaredSlotsNeverShareMemoryAndAreNamedInReports() {
        Workspace.Slot[] many = new Workspace.Slot[20];
        for (int i = 0; i < many.length; i++) many[i] = Workspace.slot("test.many." + i);
        try (Workspace ws = new Workspace()) {
            java.util.Set<Long> addresses = new java.util.HashSet<>();
            for (Workspace.Slot s : many) assertTrue(addresses.add(ws.floats(s, 16).address()), s + " shares memory");
            assertTrue(ws.describe().contains("test.many.19"), ws.describe());
        }
    }

    /**
     * A thread's workspace is freed once the thread has ended (the shared arenas are never freed by the garbage
     * collector): 20 short-lived threads, platform and virtual, each leave 1 MiB of scratch behind, and
     * {@link Workspace#freeEndedThreads()} frees exactly that; a new thread's first workspace does the same sweep; and
     * {@link Workspace#releaseCurrentThread()} frees at once. Before the fix every one of them leaked its MiB.
     */
    @Test
    void aThreadsWorkspaceIsFreedOnceTheThreadHasEnded() throws InterruptedException {
        Workspace.freeEndedThreads(); // whatever earlier tests' threads left
        long before = MemoryStats.liveBytes();
        java.util.concurrent.CountDownLatch allocated = new java.util.concurrent.CountDownLatch(20), end = new java.util.concurrent.CountDownLatch(1);
        List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) { // alive together, so no thread's first workspace sweeps another's
            threads.add((i % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual()).start(() -> {
                Workspace.ofCurrentThread().floats(SLOT_A, 1 << 18);
                allocated.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        allocated.await();
        assertEquals(0, Workspace.freeEndedThreads(), "live threads keep their workspaces");
        end.countDown();
        for (Thread t : threads) t.join();
        assertEquals(before + (20L << 20), MemoryStats.liveBytes(), "the ended threads' scratch is still held");
        assertEquals(20L << 20, Workspace.freeEndedThreads());
        assertEquals(before, MemoryStats.liveBytes());
        assertEquals(0, Workspace.freeEndedThreads(), "nothing left to free");

        Thread.ofPlatform().start(() -> Workspace.ofCurrentThread().floats(SLOT_A, 1 << 18)).join();
        long[] during = new long[2];
        Thread t = Thread.ofPlatform().start(() -> {
            Workspace.ofCurrentThread().floats(SLOT_B, 1 << 18); // its first workspace frees the ended thread's
            during[0] = MemoryStats.liveBytes();
            Workspace.releaseCurrentThread();
            during[1] = MemoryStats.liveBytes();
        });
        t.join();
        assertEquals(before + (1 << 20), during[0], "a new thread's first workspace swept the ended one's");
        assertEquals(before, during[1], "released at once");
        assertEquals(0, Workspace.freeEndedThreads(), "a released workspace is not freed twice");
        assertEquals(before, MemoryStats.liveBytes());
    }

    @Test
    void workspaceReuseDoesNotReallocate() {
        try (Workspace ws = new Workspace()) {
            MemorySegment first = ws.floats(SLOT_A, 1000);
            long held = ws.bytesHeld();
            long live = MemoryStats.liveBytes();
            for (int i = 0; i < 100; i++) {
                MemorySegment again = ws.floats(SLOT_A, 1 + i * 9);
                assertEquals(first.address(), again.address(), "smaller requests reuse the buffer");
                assertEquals(0, again.address() % 64, "64-byte aligned");
            }
            assertEquals(held, ws.bytesHeld());
            assertEquals(live, MemoryStats.liveBytes());
            MemorySegment other = ws.doubles(SLOT_B, 10);
            assertNotEquals(first.address(), other.address(), "slots are independent");
            assertEquals(first.address(), ws.floats(SLOT_A, held / 4).address(), "the padded tail is usable too");
            MemorySegment bigger = ws.floats(SLOT_A, held / 4 + 1);
            assertTrue(bigger.byteSize() >= held * 3 / 2, "grows by at least 1.5x: " + held + " -> " + bigger.byteSize());
            assertEquals(bigger.address(), ws.floats(SLOT_A, held * 3 / 8).address());
        }
        assertTrue(Workspace.ofCurrentThread() == Workspace.ofCurrentThread());
    }

    @Test
    void memoryStatsReturnToTheStartAfterArenasClose() {
        long start = MemoryStats.liveBytes();
        TensorArena arena = new TensorArena();
        Tensor a = arena.allocate(DType.F32, 3, 5);
        arena.allocate(DType.U8, 1);
        arena.allocateBytes(0);
        assertEquals(0, a.segment().address() % TensorArena.ALIGNMENT);
        assertEquals(64 + 64 + 64, arena.bytes(), "each allocation padded to whole 64-byte lines");
        Tensor own = Tensor.of(new double[] {1, 2, 3}, 3);
        Tensor copy = own.transpose(0, 0).copy();
        Tensor converted = own.to(DType.F32);
        assertEquals(start + 192 + 3 * 64, MemoryStats.liveBytes());
        assertTrue(MemoryStats.peakBytes() >= MemoryStats.liveBytes());
        arena.close();
        own.close();
        copy.close();
        converted.close();
        assertEquals(start, MemoryStats.liveBytes());
    }
}
