package tessera.onnx.infer;

/**
 * A session's memory plan for one input shape.
 *
 * @param inputShape        the first input's shape the plan is for
 * @param activationBytes   peak activation memory of one execution context (one per thread running the model)
 * @param naiveActivationBytes activation memory without buffer reuse (sum of all activation values)
 * @param weightBytes       constants and pre-packed weights held by the session
 * @param steps             kernel calls per inference
 * @param foldedBatchNorms  batch norms folded into convolutions at load
 * @param fusedActivations  activations fused into convolution/GEMM epilogues
 * @param fusedResiduals    residual additions fused into convolution epilogues
 */
public record MemoryReport(int[] inputShape, long activationBytes, long naiveActivationBytes, long weightBytes, int steps,
        int foldedBatchNorms, int fusedActivations, int fusedResiduals) {
    @Override
    public String toString() {
        return String.format("memory plan for input %s: peak activations %.2f MiB (%.2f MiB without reuse), weights %.2f MiB; "
                + "%d kernel calls; %d batch norms folded, %d activations and %d residual adds fused",
                java.util.Arrays.toString(inputShape), activationBytes / 1048576.0, naiveActivationBytes / 1048576.0,
                weightBytes / 1048576.0, steps, foldedBatchNorms, fusedActivations, fusedResiduals);
    }
}
