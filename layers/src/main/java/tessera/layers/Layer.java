package tessera.layers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.autograd.Variable;
import tessera.memory.Tensor;

/**
 * A layer: a differentiable function of one input with named parameters and buffers.
 *
 * <p>Shapes: {@link #forward} takes a batch [N, ...]; {@link #outputShape} works on per-sample shapes (no batch
 * dimension). Parameter and buffer names are dotted paths relative to this layer ({@code weight},
 * {@code 0.bias}, {@code body.1.running_mean}), like PyTorch's state_dict keys.
 */
public interface Layer extends AutoCloseable {
    /** The type name (the provider's name). */
    String type();

    /** Computes the output for a batch; records the graph when autograd recording is on. */
    Variable forward(Variable x, ForwardContext context);

    /** The per-sample output shape for a per-sample input shape, or a {@link ShapeException}. */
    int[] outputShape(int[] inputShape);

    /** Trainable parameters, own and children's, by dotted name (insertion order = definition order). */
    default Map<String, Variable> parameters() {
        Map<String, Variable> out = new LinkedHashMap<>();
        for (Map.Entry<String, Layer> c : children().entrySet()) {
            c.getValue().parameters().forEach((k, v) -> out.put(c.getKey() + "." + k, v));
        }
        return out;
    }

    /** Non-trainable state (e.g. batch-norm running statistics), own and children's, by dotted name. */
    default Map<String, Tensor> buffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Layer> c : children().entrySet()) {
            c.getValue().buffers().forEach((k, v) -> out.put(c.getKey() + "." + k, v));
        }
        return out;
    }

    /** Child layers by name (containers), empty for leaves. */
    default Map<String, Layer> children() { return Map.of(); }

    /** Switches training behaviour (dropout, batch statistics) for this layer and its children. */
    void setTraining(boolean training);

    boolean isTraining();

    /** Multiply-accumulates of one forward pass for one sample with this input shape (for summaries). */
    default long macs(int[] inputShape) { return 0; }

    /** Window geometry per spatial axis (kernel, stride, dilation) for receptive-field arithmetic; null if pointwise. */
    default int[] window() { return null; }

    /** Number of trainable scalars. */
    default long parameterCount() {
        long n = 0;
        for (Variable v : parameters().values()) n += v.value().numel();
        return n;
    }

    /** Frees parameter, gradient and buffer memory. */
    @Override
    void close();

    /** Helper for containers: the list of layers in order. */
    default List<Layer> childList() { return List.copyOf(children().values()); }
}
