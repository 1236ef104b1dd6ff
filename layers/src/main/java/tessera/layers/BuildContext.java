package tessera.layers;

import tessera.memory.DType;

/**
 * What a provider knows when it creates a layer: the per-sample input shape (no batch dimension, e.g. [C,H,W]),
 * the parameter dtype (F32 for training/inference, F64 for gradient checks), a seed for initialization, the
 * registry (for containers that build children) and the layer's path in the model (for error messages and
 * parameter names).
 */
public record BuildContext(int[] inputShape, DType dtype, long seed, LayerRegistry registry, String path) {

    public BuildContext withInput(int[] shape, String childPath, long childSeed) {
        return new BuildContext(shape.clone(), dtype, childSeed, registry, childPath);
    }

    /** Size of dimension {@code d} of the per-sample input, with an error naming the layer when the rank is wrong. */
    public int inputDim(int d, int expectedRank, String layerType) {
        if (inputShape.length != expectedRank) {
            throw new ShapeException(layerType, inputShape, "a per-sample input of rank " + expectedRank
                    + (expectedRank == 3 ? " [C,H,W]" : expectedRank == 1 ? " [features]" : ""));
        }
        return inputShape[d];
    }
}
