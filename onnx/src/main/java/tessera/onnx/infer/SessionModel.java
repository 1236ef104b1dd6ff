package tessera.onnx.infer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxNode;

/**
 * The shape-independent part of a session: optimized nodes, constants, and the caches of pre-packed kernel plans
 * shared by every specialization (keyed by node and input geometry).
 */
final class SessionModel {
    final List<OnnxNode> nodes;
    final Map<String, Tensor> constants;
    final List<OnnxGraph.ValueInfo> inputs;
    final List<String> outputs;
    final TensorArena weights;
    final ConcurrentHashMap<String, AutoCloseable> plans = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, Object> prepared = new ConcurrentHashMap<>();
    final tessera.kernels.conv.ConvAlgorithm algorithm;

    SessionModel(List<OnnxNode> nodes, Map<String, Tensor> constants, List<OnnxGraph.ValueInfo> inputs, List<String> outputs,
            TensorArena weights, tessera.kernels.conv.ConvAlgorithm algorithm) {
        this.nodes = nodes;
        this.constants = constants;
        this.inputs = inputs;
        this.outputs = outputs;
        this.weights = weights;
        this.algorithm = algorithm;
    }
}
