package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Properties of the geometry helpers: occlusion patch origins, bilinear resizing, activation-maximization rolls. */
class GeometryPropertiesTest {
    @Test
    void occlusionOriginsCoverEveryPixelInOrderAndEndAtTheEdge() {
        // valid by construction: the axis is the patch plus some extra length
        qt().withFixedSeed(17).forAll(integers().between(0, 63), integers().between(1, 64), integers().between(1, 20))
                .checkAssert((extra, p, s) -> {
                    int n = p + extra;
                    List<Integer> o = Occlusion.origins(n, new Occlusion.Config(p, s, 0f));
                    assertEquals(0, o.getFirst());
                    assertEquals(n - p, o.getLast());
                    boolean[] covered = new boolean[n];
                    for (int k = 0; k < o.size(); k++) {
                        if (k > 0) assertTrue(o.get(k) > o.get(k - 1) && o.get(k) - o.get(k - 1) <= s, o.toString());
                        for (int i = o.get(k); i < o.get(k) + p; i++) covered[i] = true;
                    }
                    // every pixel is covered when the stride does not skip past a whole patch
                    if (s <= p) for (boolean c : covered) assertTrue(c, o.toString());
                });
    }

    @Test
    void resizingAConstantOrLinearRampKeepsItsValuesInRange() {
        qt().withFixedSeed(18).forAll(integers().between(1, 12).zip(integers().between(1, 12), (a, b) -> new int[] {a, b}),
                        integers().between(1, 40), integers().between(1, 40), floats().between(-5, 5))
                .checkAssert((hw, oh, ow, c) -> {
                    int h = hw[0], w = hw[1];
                    float[] v = new float[h * w];
                    java.util.Arrays.fill(v, c);
                    for (float r : new Plane(h, w, v).resized(oh, ow).values()) assertEquals(c, r, 1e-5f * (1 + Math.abs(c)));
                    float[] ramp = new float[h * w];
                    for (int i = 0; i < ramp.length; i++) ramp[i] = i % w;
                    for (float r : new Plane(h, w, ramp).resized(oh, ow).values()) assertTrue(r >= -1e-5f && r <= w - 1 + 1e-5f, "value " + r);
                });
    }

    @Test
    void rollingBackUndoesARoll() {
        qt().withFixedSeed(19).forAll(integers().between(1, 3), integers().between(1, 9).zip(integers().between(1, 9), (a, b) -> new int[] {a, b}),
                        integers().between(-12, 12), integers().between(-12, 12))
                .checkAssert((c, hw, dy, dx) -> {
                    int h = hw[0], w = hw[1];
                    float[] x = TinyOnnx.values(c * h * w, 5, -1, 1);
                    float[] r = ActivationMaximization.roll(x, c, h, w, dy, dx);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x, ActivationMaximization.roll(r, c, h, w, -dy, -dx), 0f);
                    if (h > 1 || w > 1) assertEquals(r[(Math.floorMod(dy, h)) * w + Math.floorMod(dx, w)], x[0], 0f);
                });
    }
}
