package tessera.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gradient ascent raises its objective over the steps, stays finite, and repeats exactly for the same seed. */
class ActivationMaximizationTest {
    @TempDir Path dir;

    private static void assertRisesAndFinite(ActivationMaximization.Result r, String what) {
        for (float v : r.image()) assertTrue(Float.isFinite(v), what + ": non-finite pixel");
        for (double v : r.trace()) assertTrue(Double.isFinite(v), what + ": non-finite objective");
        assertTrue(r.last() > r.initial() + 1e-3, what + ": objective " + r.initial() + " -> " + r.last());
        int n = r.trace().length;
        assertTrue(r.trace()[n - 1] > r.trace()[0], what + ": trace " + r.trace()[0] + " -> " + r.trace()[n - 1]);
    }

    @Test
    void classScoreAndChannelRiseOnTheConvNet() {
        try (Explainable m = OnnxExplainable.load(Models.masked(dir))) {
            int[] shape = {1, 2, Models.H, Models.W};
            var config = ActivationMaximization.Config.defaults(Models.H, 3).withSteps(30);
            for (int k = 0; k < 3; k++) {
                assertRisesAndFinite(ActivationMaximization.run(m, shape, ActivationMaximization.Objective.classScore(k), config), "class " + k);
            }
            assertRisesAndFinite(ActivationMaximization.run(m, shape, ActivationMaximization.Objective.channel("c2", 1), config), "c2 channel 1");
        }
    }

    @Test
    void sameSeedSameImageOtherSeedOtherImage() {
        // no jitter: a linear model gives each pixel its own weight, so a shifted image scores differently
        try (Explainable m = Models.linearLayers()) {
            int[] shape = {1, 2, 6, 6};
            var o = ActivationMaximization.Objective.classScore(2);
            var a = ActivationMaximization.run(m, shape, o, new ActivationMaximization.Config(12, 0.05, 0.01, 0, 4, 0.5, 7));
            var b = ActivationMaximization.run(m, shape, o, new ActivationMaximization.Config(12, 0.05, 0.01, 0, 4, 0.5, 7));
            var c = ActivationMaximization.run(m, shape, o, new ActivationMaximization.Config(12, 0.05, 0.01, 0, 4, 0.5, 8));
            assertArrayEquals(a.image(), b.image(), 0f);
            assertTrue(!java.util.Arrays.equals(a.image(), c.image()));
            assertRisesAndFinite(a, "linear class 2");
        }
    }
}
