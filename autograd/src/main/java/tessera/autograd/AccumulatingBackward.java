package tessera.autograd;

import tessera.memory.Tensor;

/**
 * A backward rule that adds its input gradients to the gradients already pending for those inputs (values that feed
 * several ops: a residual block's input), so that the engine does not sum them in a pass of its own: a convolution's
 * input gradient, for one, adds the pending gradient while its result is still in cache.
 *
 * <p>{@code pending[k]}, when non-null, is the gradient input k has received so far; the rule must then return, for
 * that k, a new tensor holding {@code pending[k] + ∂L/∂input_k} (never an update of pending[k] in place: other
 * pending gradients may share it). For null entries, or a null array (nothing pending), it returns ∂L/∂input_k, as
 * {@link Backward#apply} does. The array is the engine's: read it during the call only.
 */
@FunctionalInterface
public interface AccumulatingBackward extends Backward {
    Tensor[] apply(Tensor gradOutput, Tensor[] pending);

    @Override
    default Tensor[] apply(Tensor gradOutput) { return apply(gradOutput, null); }
}
