package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

/**
 * {@link TensorArena#allocateLike} / {@link TensorArena#allocateUninitializedLike}: a contiguous tensor of the
 * original's dtype and shape whatever the original's strides (views included), whose elements are its own, zero-filled
 * when asked, and unreachable once the arena closes — from plain and recycling arenas.
 */
class TensorArenaLikeTest {

    @Test
    void likeTensorsAreContiguousWithTheShapeOfAnyView() {
        qt().withExamples(60).forAll(integers().between(1, 5), integers().between(1, 6), integers().between(1, 7),
                        integers().between(0, 2))
                .checkAssert((a, b, c, view) -> {
                    for (BlockCache cache : new BlockCache[]{null, new BlockCache()}) {
                        try (Tensor base = Tensor.zeros(DType.F64, a, b, c); TensorArena arena = new TensorArena(cache)) {
                            RandomFill.uniform(base, a * 100 + b * 10 + c, -1, 1);
                            Tensor like = switch (view) {
                                case 0 -> base;
                                case 1 -> base.permute(2, 0, 1);
                                default -> base.transpose(0, 2);
                            };
                            Tensor out = arena.allocateLike(like);
                            assertArrayEquals(like.shape(), out.shape());
                            assertEquals(like.dtype(), out.dtype());
                            assertTrue(out.isContiguous(), "contiguous");
                            for (double v : out.toDoubleArray()) assertEquals(0.0, v, "zero-filled");
                            out.copyFrom(like);
                            assertArrayEquals(like.toDoubleArray(), out.toDoubleArray(), 0.0);
                            Tensor un = arena.allocateUninitializedLike(like);
                            un.copyFrom(like);
                            assertArrayEquals(like.toDoubleArray(), un.toDoubleArray(), 0.0);
                            out.set(7.0, 0, 0, 0);
                            assertEquals(like.getDouble(0, 0, 0), un.getDouble(0, 0, 0), 0.0); // distinct memory
                            arena.close();
                            assertThrows(IllegalStateException.class, () -> out.getDouble(0, 0, 0));
                        }
                    }
                });
    }

    @Test
    void aReturnedShapeCopyDoesNotChangeTheSharedShape() {
        try (Tensor base = Tensor.zeros(DType.F32, 2, 3); TensorArena arena = new TensorArena()) {
            Tensor out = arena.allocateUninitializedLike(base);
            int[] s = out.shape();
            s[0] = 99;
            assertArrayEquals(new int[]{2, 3}, base.shape());
            assertArrayEquals(new int[]{2, 3}, out.shape());
        }
    }
}
