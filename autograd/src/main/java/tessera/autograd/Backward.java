package tessera.autograd;

import tessera.memory.Tensor;

/**
 * The backward rule of one recorded op: given ∂L/∂output, returns ∂L/∂input for each input in order
 * (null where an input is not differentiable or needs no gradient).
 */
@FunctionalInterface
public interface Backward {
    Tensor[] apply(Tensor gradOutput);
}
