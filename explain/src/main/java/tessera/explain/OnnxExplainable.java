package tessera.explain;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxLoader;
import tessera.onnx.OnnxNode;
import tessera.onnx.infer.DifferentiableGraph;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * An ONNX classifier: scores run through an {@link InferenceSession} (fused, planned kernels); gradients, taps and
 * activations through {@link DifferentiableGraph} (the graph as written, eval semantics, no initializer gradients).
 * A layer is a node, named by its node name (its first output's name when the node has no name or shares it);
 * its value is the node's first output. Output value names are accepted too.
 */
public final class OnnxExplainable implements Explainable {
    /** Samples per call when the model's batch dimension is symbolic. */
    public static final int BATCH = 8;

    private final OnnxGraph graph;
    private final InferenceSession session;
    private final Map<String, String> valueOfLayer = new LinkedHashMap<>();
    private final Map<String, OnnxNode> producer = new HashMap<>();
    private final List<String> convolutions = new ArrayList<>();

    private OnnxExplainable(OnnxGraph graph, InferenceSession session) {
        this.graph = graph;
        this.session = session;
        if (graph.inputs().size() != 1) {
            throw new IllegalArgumentException("the model has " + graph.inputs().size() + " inputs; explanations need exactly one image input");
        }
        int[] d = graph.inputs().get(0).dims();
        if (d == null || d.length != 4) {
            throw new IllegalArgumentException("the model's input '" + graph.inputs().get(0).name() + "' has shape "
                    + Arrays.toString(d) + "; explanations need an image input [N, C, H, W]");
        }
        Map<String, Integer> nameCount = new HashMap<>();
        for (OnnxNode n : graph.nodes()) nameCount.merge(n.name(), 1, Integer::sum);
        for (OnnxNode n : graph.nodes()) {
            if (n.outputs().isEmpty()) continue;
            String value = n.outputs().get(0);
            for (String o : n.outputs()) producer.put(o, n);
            String name = !n.name().isEmpty() && nameCount.get(n.name()) == 1 ? n.name() : value;
            valueOfLayer.putIfAbsent(name, value);
            if (n.opType().equals("Conv")) convolutions.add(name);
        }
    }

    /** Loads {@code file} twice: once for the inference session, once for the differentiable graph. */
    public static OnnxExplainable load(Path file) {
        OnnxGraph g = OnnxLoader.load(file);
        InferenceSession s = null;
        try {
            s = InferenceSession.load(file, SessionOptions.DEFAULT);
            return new OnnxExplainable(g, s);
        } catch (RuntimeException e) {
            if (s != null) s.close();
            g.close();
            throw e;
        }
    }

    @Override
    public int[] inputShape() {
        int[] d = graph.inputs().get(0).dims();
        return new int[] {d[1], d[2], d[3]};
    }

    @Override
    public int maxBatch() { return graph.inputs().get(0).dims()[0] > 0 ? 1 : BATCH; }

    @Override
    public List<String> layers() { return List.copyOf(valueOfLayer.keySet()); }

    @Override
    public List<String> convolutions() { return List.copyOf(convolutions); }

    @Override
    public Tensor scores(Tensor x) {
        Tensor y = session.run(x);
        if (y.rank() != 2) {
            int[] s = y.shape();
            y.close();
            throw new IllegalArgumentException("the model's output has shape " + Arrays.toString(s) + "; explanations need class scores [N, K]");
        }
        return y;
    }

    @Override
    public Pass backward(Tensor x, String at, Tensor seed, String tap) {
        OnnxGraph g = at == null ? graph : truncated(value(at));
        DifferentiableGraph.Options options = new DifferentiableGraph.Options(false, tap == null ? Set.of() : Set.of(value(tap)));
        try (DifferentiableGraph.Gradients r = DifferentiableGraph.vjp(g, x, seed, DType.F32, options)) {
            Tensor tv = tap == null ? null : r.tapped().get(value(tap)).copy();
            Tensor tg = tap == null ? null : r.tappedGradients().get(value(tap)).copy();
            return new Pass(r.output().copy(), r.input().copy(), tv, tg);
        }
    }

    @Override
    public Tensor activation(Tensor x, String name) {
        String v = value(name);
        try (DifferentiableGraph.Values r = DifferentiableGraph.evaluate(truncated(v), x, DType.F32, Set.of(v))) {
            return r.values().get(v).copy();
        }
    }

    @Override
    public Tensor firstConvolutionWeights() {
        for (OnnxNode n : graph.nodes()) {
            if (!n.opType().equals("Conv")) continue;
            Tensor w = graph.initializers().get(n.input(1));
            if (w == null) throw new IllegalArgumentException(n.describe() + ": the weights '" + n.input(1) + "' are computed, not an initializer");
            return w.to(DType.F32);
        }
        throw new IllegalArgumentException("the model has no Conv node, so it has no filters to show");
    }

    /** The value a layer name (or a value name) stands for. */
    private String value(String name) {
        String v = valueOfLayer.get(name);
        if (v != null) return v;
        if (producer.containsKey(name)) return name;
        throw new UnknownLayerException("layer", name, layers());
    }

    /** The graph with {@code value} as its only output and only the nodes it depends on (shares the constants). */
    private OnnxGraph truncated(String value) {
        Set<OnnxNode> needed = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(value));
        while (!todo.isEmpty()) {
            OnnxNode n = producer.get(todo.pop());
            if (n == null || !needed.add(n)) continue;
            for (String in : n.inputs()) if (!in.isEmpty()) todo.push(in);
        }
        List<OnnxNode> nodes = new ArrayList<>();
        for (OnnxNode n : graph.nodes()) if (needed.contains(n)) nodes.add(n);
        // not closed: the arena belongs to the full graph
        return new OnnxGraph(nodes, graph.initializers(), graph.inputs(), List.of(value), graph.opsetVersion(), graph.arena());
    }

    @Override
    public void close() {
        session.close();
        graph.close();
    }
}
