package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;

/**
 * An installed backward observer sees every step of the passes its thread runs, each as a before/after pair around
 * it with the step's gradient, in the order the walk takes: for L = Σ relu(x·w + x) that is sum, relu, add, mul, and
 * then the sum of x's two gradients (x feeds both add and mul; the second arrives from mul). Passes before it was installed or after it closed are not seen; a nested installation
 * sees the passes while it is the installed one, and the outer one sees them again after it closes.
 */
class BackwardObserverTest {
    private static void step() {
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(new float[] {1f, -2f, 3f}, 3), "x");
            Variable w = Variable.parameter(Tensor.of(new float[] {4f, 5f, -6f}, 3), "w");
            Ops.sum(Ops.relu(Ops.add(Ops.mul(x, w), x))).backward();
        }
    }

    /** Records "before op[shape]" / "after op[shape]". */
    private static final class Recorder implements BackwardObserver {
        final List<String> events = new ArrayList<>();

        @Override public void before(String op, Tensor gradient) { events.add("before " + op + Arrays.toString(gradient.shape())); }

        @Override public void after(String op, Tensor gradient) { events.add("after " + op + Arrays.toString(gradient.shape())); }
    }

    @Test
    void seesEachStepOfAPassAsABeforeAfterPair() {
        Recorder r = new Recorder();
        step(); // not seen
        try (BackwardObserver.Installation i = BackwardObserver.install(r)) {
            step();
        }
        List<String> steps = new ArrayList<>();
        for (int e = 0; e < r.events.size(); e += 2) {
            String before = r.events.get(e), after = r.events.get(e + 1);
            assertEquals(before.substring("before ".length()), after.substring("after ".length()), "a step's pair: " + r.events);
            steps.add(before.substring("before ".length()));
        }
        assertEquals(List.of("sum[1]", "relu[3]", "add[3]", "mul[3]", "gradient sum[3]"), steps);
        step();
        assertEquals(10, r.events.size(), "nothing is seen after the installation closed");
        assertNull(BackwardObserver.Installation.current());
    }

    @Test
    void aNestedInstallationSeesThePassesWhileItIsInstalled() {
        Recorder outer = new Recorder(), inner = new Recorder();
        try (BackwardObserver.Installation o = BackwardObserver.install(outer)) {
            try (BackwardObserver.Installation i = BackwardObserver.install(inner)) {
                step();
            }
            assertEquals(10, inner.events.size());
            assertEquals(0, outer.events.size());
            step();
            assertEquals(10, outer.events.size());
            assertEquals(10, inner.events.size());
        }
        assertThrows(IllegalArgumentException.class, () -> BackwardObserver.install(null));
    }
}
