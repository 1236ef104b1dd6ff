package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A backward function that itself runs a backward pass (on the same thread) leaves the outer pass intact: the graph
 * walk's per-thread collections are not shared between the two (the inner pass would otherwise clear the outer
 * pass's pending gradients). Outer: L = Σ (f(x) + x²) with f the identity whose backward also differentiates
 * Σ w² — so ∂L/∂x = 1 + 2x and ∂(Σ w²)/∂w = 2w, each exact in float32.
 */
class BackwardReentrancyTest {
    @Test
    void aBackwardInsideABackwardKeepsBothPassesIntact() {
        try (Scope s = Scope.open()) {
            Variable x = Variable.parameter(Tensor.of(new float[] {1f, 2f, 3f}, 3), "x");
            Variable w = Variable.parameter(Tensor.of(new float[] {4f, 5f}, 2), "w");
            Variable f = Graph.record("identity-that-differentiates", x.value(), g -> {
                Ops.sum(Ops.square(w)).backward();
                return new Tensor[] {g};
            }, x);
            Ops.sum(Ops.add(f, Ops.square(x))).backward();
            for (int i = 0; i < 3; i++) assertEquals(1 + 2 * (i + 1), x.grad().getDouble(i), 0, "dL/dx[" + i + "]");
            assertEquals(8, w.grad().getDouble(0), 0);
            assertEquals(10, w.grad().getDouble(1), 0);
        }
    }
}
