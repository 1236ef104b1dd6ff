package tessera.onnx;

/**
 * Hard limits applied while reading an ONNX file, so that a corrupt or hostile file fails fast with an
 * {@link OnnxFormatException} instead of exhausting memory.
 *
 * @param maxFileBytes      largest accepted file, in bytes
 * @param maxTensorElements largest element count of any one tensor (initializer, constant or declared input)
 * @param maxDim            largest single dimension
 * @param maxNodes          largest node count of the main graph
 */
public record OnnxLimits(long maxFileBytes, long maxTensorElements, long maxDim, int maxNodes) {
    /** 1 GiB files, 2^28 elements per tensor (1 GiB of float32), dimensions up to 2^24, 100,000 nodes. */
    public static final OnnxLimits DEFAULT = new OnnxLimits(1L << 30, 1L << 28, 1L << 24, 100_000);

    public OnnxLimits {
        if (maxFileBytes <= 0 || maxFileBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxFileBytes " + maxFileBytes + " must be in [1, 2^31-1]");
        }
        if (maxTensorElements <= 0) throw new IllegalArgumentException("maxTensorElements " + maxTensorElements + " must be >= 1");
        if (maxDim <= 0 || maxDim > Integer.MAX_VALUE) throw new IllegalArgumentException("maxDim " + maxDim + " must be in [1, 2^31-1]");
        if (maxNodes <= 0) throw new IllegalArgumentException("maxNodes " + maxNodes + " must be >= 1");
    }
}
