package tessera.explain;

import java.util.List;
import tessera.memory.Tensor;

/**
 * A classifier as the explanation methods see it: a batch of images {@code [N, C, H, W]} (float32, NCHW) to class
 * scores {@code [N, K]}, differentiable with respect to the images, with named intermediate values ("layers") whose
 * activations and gradients can be read. Implemented for ONNX files ({@link OnnxExplainable}) and for models built from
 * specs ({@link LayerModelExplainable}). Not thread-safe; close to free the model.
 */
public interface Explainable extends AutoCloseable {
    /** The per-sample input shape {@code [C, H, W]} the model declares; -1 where any size is accepted. */
    int[] inputShape();

    /** The most samples one call may carry (1 for a model whose batch dimension is fixed). */
    int maxBatch();

    /** Names of the intermediate values, in forward order: what {@link #activation} and taps accept. */
    List<String> layers();

    /** The names among {@link #layers()} that are convolution outputs, in forward order. */
    List<String> convolutions();

    /** Class scores {@code [N, K]} (float32, owned by the caller) of a batch {@code [N, C, H, W]}, in eval semantics. */
    Tensor scores(Tensor x);

    /**
     * One forward and backward pass on a batch {@code x}: the value at {@code at} (a layer name, or null for the
     * class scores) and ∂(Σ value⊙{@code seed})/∂x; with a {@code tap} (a layer name, or null), also the tapped
     * layer's value and the gradient arriving there.
     *
     * @param seed the output gradient, the shape of the value at {@code at}
     */
    Pass backward(Tensor x, String at, Tensor seed, String tap);

    /** The value of layer {@code name} for batch {@code x} (float32, owned by the caller). */
    Tensor activation(Tensor x, String name);

    /** A copy of the first convolution's weights {@code [K, C/groups, kH, kW]} (float32, owned by the caller). */
    Tensor firstConvolutionWeights();

    @Override
    void close();
}
