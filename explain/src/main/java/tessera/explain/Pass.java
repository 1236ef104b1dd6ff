package tessera.explain;

import tessera.memory.Tensor;

/**
 * The result of {@link Explainable#backward}: the output value (class scores or a layer's value), the input
 * gradient {@code [N, C, H, W]}, and, when a layer was tapped, its value and gradient (else null). Owns its tensors
 * (float32).
 */
public record Pass(Tensor output, Tensor inputGradient, Tensor tapValue, Tensor tapGradient) implements AutoCloseable {
    @Override
    public void close() {
        for (Tensor t : new Tensor[] {output, inputGradient, tapValue, tapGradient}) if (t != null) t.close();
    }
}
