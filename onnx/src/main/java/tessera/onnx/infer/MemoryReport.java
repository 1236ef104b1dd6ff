package tessera.onnx.infer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * @param kernelCalls       one entry per kernel call in execution order, {@code "node: op"}, the op naming what was
 *                          fused into it (e.g. {@code "conv1: Conv+BatchNormalization+Clip(0,6)"}, {@code "fc: Gemm+Relu"})
 */
public record MemoryReport(int[] inputShape, long activationBytes, long naiveActivationBytes, long weightBytes, int steps,
        int foldedBatchNorms, int fusedActivations, int fusedResiduals, List<String> kernelCalls) {

    /** The fused ops with how many nodes run each, in plan order, e.g. {@code {"Conv+Clip(0,6)": 2}}. */
    public Map<String, Integer> fusedOps() {
        Map<String, Integer> m = new LinkedHashMap<>();
        String lastNode = null;
        for (String call : kernelCalls) {
            int sep = call.lastIndexOf(": ");
            String node = call.substring(0, sep), op = call.substring(sep + 2);
            if (op.contains("+") && !node.equals(lastNode)) m.merge(op, 1, Integer::sum);
            lastNode = node;
        }
        return m;
    }

    @Override
    public String toString() {
        StringBuilder fused = new StringBuilder();
        fusedOps().forEach((op, n) -> fused.append(fused.isEmpty() ? "; fused: " : ", ").append(n).append("× ").append(op));
        return String.format("memory plan for input %s: peak activations %.2f MiB (%.2f MiB without reuse), weights %.2f MiB; "
                + "%d kernel calls; %d batch norms folded, %d activations and %d residual adds fused",
                java.util.Arrays.toString(inputShape), activationBytes / 1048576.0, naiveActivationBytes / 1048576.0,
                weightBytes / 1048576.0, steps, foldedBatchNorms, fusedActivations, fusedResiduals) + fused;
    }
}
