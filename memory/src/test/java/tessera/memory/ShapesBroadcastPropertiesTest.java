package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * {@link Shapes#broadcast}: NumPy/PyTorch semantics with zero-size dimensions (0 with 1 is 0, 0 with n &gt; 1 fails),
 * checked against the per-dimension definition and against {@link Tensor#expand}.
 */
class ShapesBroadcastPropertiesTest {
    /** Shapes of rank 0..4 with dimensions 0..3 (0 and 1 often, so broadcasting and zero sizes are common). */
    private static final Gen<int[]> SHAPES = lists().of(integers().between(0, 3)).ofSizeBetween(0, 4)
            .map(l -> l.stream().mapToInt(Integer::intValue).toArray());

    private static int dim(int[] s, int r, int i) { return i < r - s.length ? 1 : s[i - (r - s.length)]; }

    private static boolean compatible(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        for (int i = 0; i < r; i++) {
            int x = dim(a, r, i), y = dim(b, r, i);
            if (x != y && x != 1 && y != 1) return false;
        }
        return true;
    }

    @Test
    void resultFollowsTheDefinitionOrTheCallFailsNamingBothShapes() {
        qt().forAll(SHAPES, SHAPES).checkAssert((a, b) -> {
            if (!compatible(a, b)) {
                var e = assertThrows(IllegalArgumentException.class, () -> Shapes.broadcast(a, b));
                assertTrue(e.getMessage().contains(Shapes.str(a)) && e.getMessage().contains(Shapes.str(b)), e.getMessage());
                return;
            }
            int[] r = Shapes.broadcast(a, b);
            assertEquals(Math.max(a.length, b.length), r.length);
            for (int i = 0; i < r.length; i++) {
                int x = dim(a, r.length, i), y = dim(b, r.length, i);
                assertEquals(x == 1 ? y : x, r[i], "dimension " + i);
                if (r[i] == 0) assertTrue(x == 0 || y == 0, "a zero in the result comes from an input");
            }
        });
    }

    @Test
    void symmetricAndIdempotent() {
        qt().forAll(SHAPES, SHAPES).checkAssert((a, b) -> {
            if (!compatible(a, b)) return;
            int[] r = Shapes.broadcast(a, b);
            assertArrayEquals(r, Shapes.broadcast(b, a));
            assertArrayEquals(r, Shapes.broadcast(r, a));
            assertArrayEquals(r, Shapes.broadcast(r, b));
            assertArrayEquals(a, Shapes.broadcast(a, new int[0]));
        });
    }

    @Test
    void bothInputsExpandToTheResult() {
        qt().forAll(SHAPES, SHAPES).checkAssert((a, b) -> {
            if (!compatible(a, b)) return;
            int[] r = Shapes.broadcast(a, b);
            try (Tensor ta = Tensor.zeros(DType.F32, a); Tensor tb = Tensor.zeros(DType.F32, b)) {
                assertArrayEquals(r, ta.expand(r).shape());
                assertArrayEquals(r, tb.expand(r).shape());
            }
        });
    }

    @Test
    void zeroSizeExamples() {
        assertArrayEquals(new int[] {0, 3}, Shapes.broadcast(new int[] {0, 1}, new int[] {1, 3}));
        assertArrayEquals(new int[] {2, 0}, Shapes.broadcast(new int[] {2, 1}, new int[] {0}));
        assertArrayEquals(new int[] {0}, Shapes.broadcast(new int[] {0}, new int[0]));
        var e = assertThrows(IllegalArgumentException.class, () -> Shapes.broadcast(new int[] {0, 4}, new int[] {2, 4}));
        assertTrue(e.getMessage().contains("[0, 4]") && e.getMessage().contains("[2, 4]"), e.getMessage());
    }
}
