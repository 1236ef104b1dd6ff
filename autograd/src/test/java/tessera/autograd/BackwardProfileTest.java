package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;

/**
 * A backward profile records each node of the passes run while it is open exactly once per pass, keyed by op and
 * gradient shape, plus one {@link BackwardProfile#GRADIENT_SUM} per value that receives two gradients; passes before
 * it opened or after it closed are not recorded, and a nested profile records only while it is the open one.
 * Graph: L = Σ relu(x·w + x) — x feeds two ops, so its two gradients are summed once.
 */
class BackwardProfileTest {
    private static void step() {
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(new float[] {1f, -2f, 3f}, 3), "x");
            Variable w = Variable.parameter(Tensor.of(new float[] {4f, 5f, -6f}, 3), "w");
            Ops.sum(Ops.relu(Ops.add(Ops.mul(x, w), x))).backward();
        }
    }

    private static Map<String, Long> calls(BackwardProfile p) {
        return p.entries().stream().collect(Collectors.toMap(e -> e.op() + e.gradientShape(), BackwardProfile.Entry::calls));
    }

    @Test
    void recordsEachNodeOncePerPassWhileOpen() {
        step(); // not recorded
        try (BackwardProfile p = BackwardProfile.open()) {
            step();
            step();
            assertEquals(Map.of("sum[1]", 2L, "relu[3]", 2L, "add[3]", 2L, "mul[3]", 2L,
                    BackwardProfile.GRADIENT_SUM + "[3]", 2L), calls(p));
            assertEquals(p.entries().stream().mapToLong(BackwardProfile.Entry::nanos).sum(), p.totalNanos());
            assertEquals(List.of(3), p.entries().stream().filter(e -> e.op().equals("mul")).findFirst().orElseThrow().gradientShape());
            try (BackwardProfile inner = BackwardProfile.open()) {
                step();
                assertEquals(1L, calls(inner).get("mul[3]"));
            }
            step(); // the outer one records again
            assertEquals(3L, calls(p).get("mul[3]"));
            p.close();
            step();
            assertEquals(3L, calls(p).get("mul[3]"), "nothing is recorded after close");
        }
        assertEquals(null, BackwardProfile.current());
    }
}
