package tessera.onnx.infer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.kernels.ActivationFn;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.OnnxAttribute;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Load-time graph rewrites that do not depend on the input shape:
 * <ul>
 *   <li>{@code Constant} nodes become constants;</li>
 *   <li>batch-norm folding: {@code Conv → BatchNormalization} becomes one Conv with scaled weights and a new bias;</li>
 *   <li>activation fusion: {@code Conv → Relu/LeakyRelu/Elu/Sigmoid/Tanh/Softplus/Mish/Clip/HardSigmoid/HardSwish/Selu}
 *       and {@code Gemm → (the same)} become one node carrying the activation ({@code _act}, {@code _alpha},
 *       {@code _beta} attributes: an {@link ActivationFn}; Clip only with constant bounds);</li>
 *   <li>residual fusion: {@code Conv → Add(·, r) [→ activation]} becomes a Conv whose 4th input is the residual.</li>
 * </ul>
 * Shape-dependent folding (Shape/Gather/Unsqueeze/Concat chains) happens in {@link Planner}.
 */
final class GraphOptimizer {
    /** Result: rewritten nodes (topological order) and all constants (initializers, Constant outputs, folded weights). */
    record Result(List<OnnxNode> nodes, Map<String, Tensor> constants, int foldedBatchNorms, int fusedActivations, int fusedResiduals) {}

    static final String ACT = OpArgs.Fused.ACT, ALPHA = OpArgs.Fused.ALPHA, BETA = OpArgs.Fused.BETA;
    /** Suffix of the weight constant of a Conv with a folded batch norm. */
    static final String BN_FOLDED_WEIGHT = "#bn_folded_weight";

    private GraphOptimizer() {}

    static Result optimize(OnnxGraph g, TensorArena arena) { return optimize(g, arena, true); }

    /** As {@link #optimize(OnnxGraph, TensorArena)}; {@code fuseActivations} false leaves activations as separate nodes. */
    static Result optimize(OnnxGraph g, TensorArena arena, boolean fuseActivations) {
        Map<String, Tensor> constants = new LinkedHashMap<>(g.initializers());
        List<OnnxNode> nodes = new ArrayList<>();
        for (OnnxNode n : g.nodes()) {
            if (n.opType().equals("Constant")) constants.put(n.outputs().get(0), constantValue(n, arena));
            else nodes.add(n);
        }
        int[] counts = new int[3];
        nodes = foldBatchNorm(nodes, constants, g, arena, counts);
        nodes = fuse(nodes, constants, g, counts, fuseActivations);
        return new Result(nodes, constants, counts[0], counts[1], counts[2]);
    }

    private static Tensor constantValue(OnnxNode n, TensorArena arena) {
        OpArgs.Constant c = n.args(OpArgs.Constant.class);
        return c.tensor() != null ? c.tensor() : new CVal(c.dtype(), c.shape(), c.values()).toTensor(arena);
    }

    /** How many nodes read each value; graph outputs count as readers. */
    private static Map<String, Integer> readers(List<OnnxNode> nodes, OnnxGraph g) {
        Map<String, Integer> r = new HashMap<>();
        for (OnnxNode n : nodes) for (String in : n.inputs()) if (!in.isEmpty()) r.merge(in, 1, Integer::sum);
        for (String o : g.outputs()) r.merge(o, 1, Integer::sum);
        return r;
    }

    private static Map<String, Integer> producers(List<OnnxNode> nodes) {
        Map<String, Integer> p = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) for (String o : nodes.get(i).outputs()) p.put(o, i);
        return p;
    }

    private static boolean isF32Const(Map<String, Tensor> c, String name) {
        return c.containsKey(name) && c.get(name).dtype() == DType.F32;
    }

    private static List<OnnxNode> foldBatchNorm(List<OnnxNode> nodes, Map<String, Tensor> c, OnnxGraph g, TensorArena arena, int[] counts) {
        Map<String, Integer> readers = readers(nodes, g), producer = producers(nodes);
        OnnxNode[] out = nodes.toArray(new OnnxNode[0]);
        for (int i = 0; i < out.length; i++) {
            OnnxNode bn = out[i];
            if (bn == null || !bn.opType().equals("BatchNormalization") || bn.outputs().size() > 1 && !bn.outputs().get(1).isEmpty()) continue;
            Integer pi = producer.get(bn.input(0));
            if (pi == null || out[pi] == null) continue;
            OnnxNode conv = out[pi];
            if (!conv.opType().equals("Conv") || readers.getOrDefault(bn.input(0), 0) != 1) continue;
            if (!isF32Const(c, conv.input(1)) || (conv.hasInput(2) && !isF32Const(c, conv.input(2)))) continue;
            boolean allConst = true;
            for (int k = 1; k <= 4; k++) allConst &= isF32Const(c, bn.input(k));
            if (!allConst) continue;
            Tensor w = c.get(conv.input(1));
            int k = w.dim(0);
            double[] gamma = c.get(bn.input(1)).toDoubleArray(), beta = c.get(bn.input(2)).toDoubleArray();
            double[] mean = c.get(bn.input(3)).toDoubleArray(), var = c.get(bn.input(4)).toDoubleArray();
            if (gamma.length != k || beta.length != k || mean.length != k || var.length != k) continue; // shape error surfaces at planning
            double eps = bn.args(OpArgs.BatchNorm.class).epsilon();
            double[] bias = conv.hasInput(2) ? c.get(conv.input(2)).toDoubleArray() : new double[k];
            if (bias.length != k) continue;
            Tensor nw = arena.allocate(DType.F32, w.shape());
            float[] wf = w.toFloatArray();
            int per = wf.length / k;
            float[] nb = new float[k];
            for (int o = 0; o < k; o++) {
                double s = gamma[o] / Math.sqrt(var[o] + eps);
                for (int j = 0; j < per; j++) wf[o * per + j] = (float) (wf[o * per + j] * s);
                nb[o] = (float) ((bias[o] - mean[o]) * s + beta[o]);
            }
            java.lang.foreign.MemorySegment.copy(wf, 0, nw.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, wf.length);
            Tensor nbt = arena.allocate(DType.F32, k);
            java.lang.foreign.MemorySegment.copy(nb, 0, nbt.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, k);
            String wn = conv.name() + BN_FOLDED_WEIGHT, bnName = conv.name() + "#bn_folded_bias";
            c.put(wn, nw);
            c.put(bnName, nbt);
            out[pi] = null;
            out[i] = conv.with("Conv", List.of(conv.input(0), wn, bnName), List.of(bn.outputs().get(0)), conv.attributes());
            counts[0]++;
        }
        List<OnnxNode> r = new ArrayList<>();
        for (OnnxNode n : out) if (n != null) r.add(n);
        return r;
    }

    /**
     * The activation {@code n} computes, or null when {@code n} is not a fusable activation. Parameters come from the
     * node's typed arguments; Clip's bounds are its (normalized) inputs 1 and 2 and must be float32 scalar constants
     * (a computed bound, NaN or min &gt; max leaves the Clip unfused, and its plan reports the problem).
     */
    private static ActivationFn activationOf(OnnxNode n, Map<String, Tensor> c) {
        return switch (n.opType()) {
            case "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "Mish", "HardSigmoid", "HardSwish", "Selu" ->
                    n.args(OpArgs.Act.class).fn();
            case "Clip" -> {
                Float lo = n.hasInput(1) ? scalarConst(c, n.input(1)) : (Float) Float.NEGATIVE_INFINITY;
                Float hi = n.hasInput(2) ? scalarConst(c, n.input(2)) : (Float) Float.POSITIVE_INFINITY;
                if (lo == null || hi == null || lo.isNaN() || hi.isNaN() || lo > hi) yield null;
                yield lo == 0f && hi == Float.POSITIVE_INFINITY ? ActivationFn.RELU : ActivationFn.clip(lo, hi);
            }
            default -> null;
        };
    }

    /** The value of a one-element float32 constant, or null. */
    private static Float scalarConst(Map<String, Tensor> c, String name) {
        Tensor t = c.get(name);
        return t == null || t.numel() != 1 || t.dtype() != DType.F32 ? null : (float) t.toDoubleArray()[0];
    }

    private static Map<String, OnnxAttribute> withAct(Map<String, OnnxAttribute> attrs, ActivationFn act) {
        Map<String, OnnxAttribute> m = new LinkedHashMap<>(attrs);
        m.put(ACT, OnnxAttribute.ofString(ACT, act.kind().name()));
        m.put(ALPHA, OnnxAttribute.ofFloat(ALPHA, act.a()));
        m.put(BETA, OnnxAttribute.ofFloat(BETA, act.b()));
        return m;
    }

    /** True when {@code value} is written by a Conv without a fused activation and read by one node only. */
    private static boolean fusableConvOutput(String value, Map<String, Integer> producer, Map<String, Integer> readers,
                                             OnnxNode[] out) {
        Integer pi = producer.get(value);
        return pi != null && out[pi] != null && readers.getOrDefault(value, 0) == 1
                && out[pi].opType().equals("Conv") && !out[pi].has(ACT);
    }

    private static List<OnnxNode> fuse(List<OnnxNode> nodes, Map<String, Tensor> c, OnnxGraph g, int[] counts, boolean fuseActivations) {
        OnnxNode[] out = nodes.toArray(new OnnxNode[0]);
        boolean changed = true;
        while (changed) {
            changed = false;
            List<OnnxNode> cur = new ArrayList<>();
            for (OnnxNode n : out) if (n != null) cur.add(n);
            out = cur.toArray(new OnnxNode[0]);
            Map<String, Integer> readers = readers(cur, g), producer = producers(cur);
            for (int i = 0; i < out.length; i++) {
                OnnxNode n = out[i];
                if (n == null) continue;
                String x = n.input(0);
                // a residual Add may have the convolution on either input (MobileNetV2: Add(previous block, conv))
                if (n.opType().equals("Add") && n.inputs().size() == 2 && !fusableConvOutput(n.input(0), producer, readers, out)
                        && fusableConvOutput(n.input(1), producer, readers, out)) {
                    x = n.input(1);
                }
                Integer pi = producer.get(x);
                if (pi == null || out[pi] == null || readers.getOrDefault(x, 0) != 1) continue;
                OnnxNode p = out[pi];
                boolean pConv = p.opType().equals("Conv"), pGemm = p.opType().equals("Gemm");
                if (!pConv && !pGemm) continue;
                if (p.has(ACT)) continue;
                ActivationFn act = fuseActivations ? activationOf(n, c) : null;
                if (act != null && n.inputs().size() <= 3) {
                    out[pi] = null;
                    out[i] = p.with(p.opType(), p.inputs(), List.of(n.outputs().get(0)), withAct(p.attributes(), act));
                    counts[1]++;
                    changed = true;
                    continue;
                }
                if (pConv && n.opType().equals("Add") && p.inputs().size() <= 3) {
                    String other = n.input(0).equals(p.outputs().get(0)) ? n.input(1) : n.input(0);
                    if (other.equals(p.outputs().get(0)) || c.containsKey(other)) continue;
                    List<String> ins = new ArrayList<>(p.inputs());
                    while (ins.size() < 3) ins.add("");
                    ins.add(other);
                    out[pi] = null;
                    out[i] = p.with("Conv", ins, List.of(n.outputs().get(0)), withAct(p.attributes(), ActivationFn.IDENTITY));
                    counts[2]++;
                    changed = true;
                }
            }
        }
        // a residual conv with IDENTITY may still take a following activation
        List<OnnxNode> cur = new ArrayList<>();
        for (OnnxNode n : out) if (n != null) cur.add(n);
        out = cur.toArray(new OnnxNode[0]);
        Map<String, Integer> readers = readers(cur, g), producer = producers(cur);
        for (int i = 0; i < out.length; i++) {
            OnnxNode n = out[i];
            Integer pi = producer.get(n.input(0));
            if (pi == null || out[pi] == null || readers.getOrDefault(n.input(0), 0) != 1) continue;
            OnnxNode p = out[pi];
            if (!p.opType().equals("Conv") || !p.has(ACT) || !p.args(OpArgs.Conv.class).fused().isNone()) continue;
            ActivationFn act = fuseActivations ? activationOf(n, c) : null;
            if (act == null) continue;
            out[pi] = null;
            out[i] = p.with("Conv", p.inputs(), List.of(n.outputs().get(0)), withAct(p.attributes(), act));
            counts[1]++;
        }
        List<OnnxNode> r = new ArrayList<>();
        for (OnnxNode n : out) if (n != null) r.add(n);
        return r;
    }
}
