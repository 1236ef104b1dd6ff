package tessera.onnx.infer;

import tessera.kernels.conv.ConvAlgorithm;
import tessera.onnx.OnnxLimits;

/**
 * Options of an {@link InferenceSession}.
 *
 * @param threads         intra-op threads of the shared compute pool (process-wide, {@code ComputePool.setThreads}); 0 leaves it unchanged
 * @param algorithm       convolution algorithm for every Conv node ({@link ConvAlgorithm#AUTO} chooses per node)
 * @param limits          file-reading limits
 * @param fuseActivations fuse activations (Relu, Clip, HardSwish, …) into the preceding Conv/Gemm epilogue (default);
 *                        false runs each as its own step (for comparisons and debugging)
 */
public record SessionOptions(int threads, ConvAlgorithm algorithm, OnnxLimits limits, boolean fuseActivations) {
    public static final SessionOptions DEFAULT = new SessionOptions(0, ConvAlgorithm.AUTO, OnnxLimits.DEFAULT, true);

    public SessionOptions {
        if (threads < 0) throw new IllegalArgumentException("threads " + threads + " must be >= 0 (0 = leave the pool as it is)");
        if (algorithm == null) throw new IllegalArgumentException("algorithm must not be null (use AUTO)");
        if (limits == null) throw new IllegalArgumentException("limits must not be null");
    }

    /** Options with activation fusion on. */
    public SessionOptions(int threads, ConvAlgorithm algorithm, OnnxLimits limits) { this(threads, algorithm, limits, true); }

    public SessionOptions withThreads(int t) { return new SessionOptions(t, algorithm, limits, fuseActivations); }

    public SessionOptions withAlgorithm(ConvAlgorithm a) { return new SessionOptions(threads, a, limits, fuseActivations); }

    public SessionOptions withFuseActivations(boolean fuse) { return new SessionOptions(threads, algorithm, limits, fuse); }
}
