package tessera.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * The imported main graph: nodes in file order (ONNX requires topological order), constant tensors (initializers
 * and {@code Constant} outputs, owned by {@link #arena()}), graph inputs with their declared shapes (-1 marks a
 * symbolic dimension such as the batch), and output names. Closing frees the constants.
 */
public final class OnnxGraph implements AutoCloseable {
    /** A graph input: name, declared dims (-1 = symbolic or unknown), element type name. */
    public record ValueInfo(String name, int[] dims, String elemType) {}

    private final List<OnnxNode> nodes;
    private final Map<String, Tensor> initializers;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final long opsetVersion;
    private final TensorArena arena;

    public OnnxGraph(List<OnnxNode> nodes, Map<String, Tensor> initializers, List<ValueInfo> inputs, List<String> outputs,
            long opsetVersion, TensorArena arena) {
        this.nodes = List.copyOf(nodes);
        this.initializers = new LinkedHashMap<>(initializers);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.opsetVersion = opsetVersion;
        this.arena = arena;
    }

    public List<OnnxNode> nodes() { return nodes; }
    /** Initializers by name (insertion order = file order). */
    public Map<String, Tensor> initializers() { return java.util.Collections.unmodifiableMap(initializers); }
    public List<ValueInfo> inputs() { return inputs; }
    public List<String> outputs() { return outputs; }
    /** The file's default-domain opset; the nodes are already in newest-opset form ({@code OpsetNormalizer}). */
    public long opsetVersion() { return opsetVersion; }
    public TensorArena arena() { return arena; }

    /** Names of the float initializers (the model's trainable parameters and statistics). */
    public List<String> floatInitializerNames() {
        List<String> r = new ArrayList<>();
        for (var e : initializers.entrySet()) if (e.getValue().dtype().isFloatingPoint()) r.add(e.getKey());
        return r;
    }

    @Override
    public void close() { arena.close(); }
}
