package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

/**
 * Recycling arenas ({@link TensorArena#TensorArena(BlockCache)}): a block freed by one arena serves the next
 * allocation of its size, zero-filled unless asked for uninitialized memory; the closed arena's tensors stay
 * inaccessible although their memory lives on in another arena; the cache holds at most the largest set of blocks one
 * arena returned and frees the rest; live bytes exclude cached ones.
 */
class BlockCacheTest {
    @Test
    void aRecycledBlockIsZeroedAgainAndTheOldTensorStaysClosed() {
        BlockCache cache = new BlockCache();
        TensorArena first = new TensorArena(cache);
        Tensor old = first.allocate(DType.F32, 1000);
        old.fill(7);
        first.close();
        assertTrue(cache.cachedBytes() >= 4000, "the block went to the cache");
        try (TensorArena second = new TensorArena(cache)) {
            Tensor zeroed = second.allocate(DType.F32, 1000);
            assertEquals(0, cache.cachedBytes(), "the block came back out of the cache");
            for (int i = 0; i < 1000; i++) assertEquals(0f, zeroed.getFloat(i), "element " + i);
            zeroed.fill(3);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> old.getFloat(0));
            assertTrue(e.getMessage().contains("[1000]"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> old.set(1f, 5));
            assertEquals(3f, zeroed.getFloat(5), "the closed tensor's write did not land");
        }
        cache.trim();
        assertEquals(0, cache.cachedBytes());
    }

    @Test
    void uninitializedMemoryIsOnlyUninitializedWhenRecycled() {
        BlockCache cache = new BlockCache();
        try (TensorArena plain = new TensorArena()) {
            Tensor t = plain.allocateUninitialized(DType.F32, 64);
            for (int i = 0; i < 64; i++) assertEquals(0f, t.getFloat(i));
        }
        try (TensorArena a = new TensorArena(cache)) {
            Tensor fresh = a.allocateUninitialized(DType.F32, 64); // a new block: zeroed by the system
            for (int i = 0; i < 64; i++) assertEquals(0f, fresh.getFloat(i));
            fresh.fill(5);
        }
        try (TensorArena b = new TensorArena(cache)) {
            Tensor reused = b.allocateUninitialized(DType.F32, 64);
            assertEquals(5f, reused.getFloat(63), "the recycled block is handed out as it was, not zeroed");
        }
        cache.trim();
    }

    @Test
    void theCacheHoldsAtMostTheLargestSetOneArenaReturned() {
        qt().withExamples(30).forAll(integers().between(1, 20), integers().between(1, 20), integers().between(1, 4096))
                .checkAssert((n1, n2, floats) -> {
                    BlockCache cache = new BlockCache();
                    long live = MemoryStats.liveBytes();
                    long firstBytes;
                    try (TensorArena a = new TensorArena(cache)) {
                        for (int i = 0; i < n1; i++) a.allocate(DType.F32, floats + i);
                        firstBytes = a.bytes();
                    }
                    assertEquals(firstBytes, cache.cachedBytes());
                    assertEquals(live, MemoryStats.liveBytes(), "cached bytes are not live");
                    long secondBytes;
                    try (TensorArena b = new TensorArena(cache)) {
                        for (int i = 0; i < n2; i++) b.allocate(DType.F32, 3 * floats + i); // other sizes
                        secondBytes = b.bytes();
                    }
                    assertTrue(cache.cachedBytes() <= Math.max(firstBytes, secondBytes),
                            cache.cachedBytes() + " cached after sets of " + firstBytes + " and " + secondBytes);
                    cache.trim();
                    assertEquals(0, cache.cachedBytes());
                });
    }
}
