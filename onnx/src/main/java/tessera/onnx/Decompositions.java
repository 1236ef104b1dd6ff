package tessera.onnx;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Operators rewritten at load into table operators every interpreter already runs and differentiates (after
 * {@link OpsetNormalizer}, so reductions take their axes as inputs): {@code Mean} = Sum / n; {@code ReduceMin} =
 * −ReduceMax(−x); {@code ReduceSumSquare} = ReduceSum(x·x); {@code ReduceL2} = √ReduceSumSquare;
 * {@code GlobalLpPool} = (ReduceSum(|x|^p over every axis after the channels, keepdims))^(1/p), with x·x and √ for
 * p = 2; {@code LayerNormalization} = (x − mean) / √(var + ε) · scale + bias over the axes from {@code axis} on
 * (a non-negative axis flattens them into one first, by Reshape), with the optional Mean and InvStdDev outputs.
 * Generated names end in {@code #…}.
 */
final class Decompositions {
    private final TensorArena arena;
    private final List<OnnxNode> out = new ArrayList<>();

    private Decompositions(TensorArena arena) { this.arena = arena; }

    static List<OnnxNode> rewrite(List<OnnxNode> nodes, TensorArena arena) {
        Decompositions d = new Decompositions(arena);
        for (OnnxNode n : nodes) d.node(n);
        return d.out;
    }

    private void node(OnnxNode n) {
        String b = n.name() + "#", y = n.outputs().get(0);
        switch (n.opType()) {
            case "Mean" -> {
                if (n.inputs().size() == 1) {
                    add(n.name(), "Identity", List.of(n.input(0)), y, Map.of());
                    return;
                }
                add(b + "sum", "Sum", n.inputs(), b + "sum", Map.of());
                add(n.name(), "Div", List.of(b + "sum", constant(n, "count", floats(n.inputs().size()))), y, Map.of());
            }
            case "ReduceMin" -> {
                add(b + "neg", "Neg", List.of(n.input(0)), b + "neg", Map.of());
                add(b + "max", "ReduceMax", reduceInputs(n, b + "neg"), b + "max", reduceAttrs(n));
                add(n.name(), "Neg", List.of(b + "max"), y, Map.of());
            }
            case "ReduceSumSquare", "ReduceL2" -> {
                add(b + "square", "Mul", List.of(n.input(0), n.input(0)), b + "square", Map.of());
                boolean l2 = n.opType().equals("ReduceL2");
                add(b + "sum", "ReduceSum", reduceInputs(n, b + "square"), l2 ? b + "sum" : y, reduceAttrs(n));
                if (l2) add(n.name(), "Sqrt", List.of(b + "sum"), y, Map.of());
            }
            case "GlobalLpPool" -> {
                long p = n.getInt("p", 2);
                if (p < 1) throw OpParsers.bad(n, "attribute 'p' = " + p + " must be >= 1");
                // [N, C, S] (every axis after the channels flattened), reduced over S, then back to [N, C, 1, ..., 1]
                add(b + "abs", "Abs", List.of(n.input(0)), b + "abs", Map.of());
                String pw = b + "pow";
                if (p == 1) pw = b + "abs";
                else if (p == 2) add(pw, "Mul", List.of(n.input(0), n.input(0)), pw, Map.of());
                else add(pw, "Pow", List.of(b + "abs", constant(n, "p", floats(p))), pw, Map.of());
                add(b + "flat", "Reshape", List.of(pw, constant(n, "ncs", longs(0, 0, -1))), b + "flat", Map.of());
                add(b + "sum", "ReduceSum", List.of(b + "flat", constant(n, "axes", longs(2))), b + "sum", Map.of());
                String root = p == 1 ? b + "sum" : b + "root";
                if (p == 2) add(root, "Sqrt", List.of(b + "sum"), root, Map.of());
                else if (p > 2) add(root, "Pow", List.of(b + "sum", constant(n, "invp", floats(1.0 / p))), root, Map.of());
                // the output shape, folded at planning: Concat(shape[0:2], shape[2:] / shape[2:])
                add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
                add(b + "nc", "Slice", List.of(b + "shape", constant(n, "s0", longs(0)), constant(n, "e2", longs(2))), b + "nc", Map.of());
                add(b + "sp", "Slice", List.of(b + "shape", constant(n, "s2", longs(2)), constant(n, "end", longs(Long.MAX_VALUE))), b + "sp", Map.of());
                add(b + "sp1", "Div", List.of(b + "sp", b + "sp"), b + "sp1", Map.of());
                add(b + "oshape", "Concat", List.of(b + "nc", b + "sp1"), b + "oshape", Map.of("axis", OnnxAttribute.ofInt("axis", 0)));
                add(n.name(), "Reshape", List.of(root, b + "oshape"), y, Map.of());
            }
            case "LayerNormalization" -> {
                long axis = n.getInt("axis", -1);
                String x = n.input(0), ax;
                if (axis < 0) {
                    long[] axes = new long[(int) -axis];
                    for (int i = 0; i < axes.length; i++) axes[i] = axis + i;
                    ax = constant(n, "axes", longs(axes));
                } else {
                    // the normalized axes [axis, rank) flattened into one: [d0, ..., d(axis-1), -1]
                    long[] spec = new long[(int) axis + 1];
                    spec[(int) axis] = -1;
                    add(b + "x2", "Reshape", List.of(x, constant(n, "flat", longs(spec))), b + "x2", Map.of());
                    x = b + "x2";
                    ax = constant(n, "axes", longs(-1));
                }
                add(b + "mean", "ReduceMean", List.of(x, ax), b + "mean", Map.of());
                add(b + "d", "Sub", List.of(x, b + "mean"), b + "d", Map.of());
                add(b + "d2", "Mul", List.of(b + "d", b + "d"), b + "d2", Map.of());
                add(b + "var", "ReduceMean", List.of(b + "d2", ax), b + "var", Map.of());
                add(b + "veps", "Add", List.of(b + "var", constant(n, "eps", floats(n.getFloat("epsilon", 1e-5f)))), b + "veps", Map.of());
                add(b + "std", "Sqrt", List.of(b + "veps"), b + "std", Map.of());
                add(b + "norm", "Div", List.of(b + "d", b + "std"), b + "norm", Map.of());
                String norm = b + "norm";
                String statShape = null;
                if (axis >= 0) {
                    add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
                    add(b + "normx", "Reshape", List.of(norm, b + "shape"), b + "normx", Map.of());
                    norm = b + "normx";
                    // statistics shape [d0, ..., d(axis-1), 1, ..., 1], folded at planning
                    add(b + "lead", "Slice", List.of(b + "shape", constant(n, "s0", longs(0)), constant(n, "ea", longs(axis))), b + "lead", Map.of());
                    add(b + "tail", "Slice", List.of(b + "shape", constant(n, "sa", longs(axis)), constant(n, "end", longs(Long.MAX_VALUE))), b + "tail", Map.of());
                    add(b + "ones", "Div", List.of(b + "tail", b + "tail"), b + "ones", Map.of());
                    add(b + "sshape", "Concat", List.of(b + "lead", b + "ones"), b + "sshape", Map.of("axis", OnnxAttribute.ofInt("axis", 0)));
                    statShape = b + "sshape";
                }
                boolean bias = n.hasInput(2);
                add(bias ? b + "scaled" : n.name(), "Mul", List.of(norm, n.input(1)), bias ? b + "scaled" : y, Map.of());
                if (bias) add(n.name(), "Add", List.of(b + "scaled", n.input(2)), y, Map.of());
                if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
                    if (statShape == null) add(b + "meanout", "Identity", List.of(b + "mean"), n.outputs().get(1), Map.of());
                    else add(b + "meanout", "Reshape", List.of(b + "mean", statShape), n.outputs().get(1), Map.of());
                }
                if (n.outputs().size() > 2 && !n.outputs().get(2).isEmpty()) {
                    String inv = b + "invstd";
                    add(inv, "Reciprocal", List.of(b + "std"), statShape == null ? n.outputs().get(2) : inv, Map.of());
                    if (statShape != null) add(b + "invout", "Reshape", List.of(inv, statShape), n.outputs().get(2), Map.of());
                }
            }
            default -> out.add(n);
        }
    }

    private static List<String> reduceInputs(OnnxNode n, String x) {
        List<String> r = new ArrayList<>(List.of(x));
        if (n.hasInput(1)) r.add(n.input(1));
        return r;
    }

    private static Map<String, OnnxAttribute> reduceAttrs(OnnxNode n) {
        Map<String, OnnxAttribute> a = new LinkedHashMap<>();
        for (String k : new String[] {"keepdims", "noop_with_empty_axes"}) if (n.has(k)) a.put(k, n.attributes().get(k));
        return a;
    }

    private void add(String name, String op, List<String> ins, String output, Map<String, OnnxAttribute> attrs) {
        out.add(new OnnxNode(name, op, ins, List.of(output), attrs));
    }

    private static OnnxAttribute tensorAttr(Tensor t) {
        return new OnnxAttribute("value", OnnxAttribute.Type.TENSOR, 0, 0, null, new long[0], new float[0], t);
    }

    private String constant(OnnxNode n, String what, Tensor t) {
        String name = n.name() + "#" + what;
        out.add(new OnnxNode(name, "Constant", List.of(), List.of(name), Map.of("value", tensorAttr(t))));
        return name;
    }

    private Tensor longs(long... v) {
        Tensor t = arena.allocate(DType.I64, v.length);
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, t.offset() + i, v[i]);
        return t;
    }

    private Tensor floats(double v) {
        Tensor t = arena.allocate(DType.F32);
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(), (float) v);
        return t;
    }

    private Tensor floats1(float v) {
        Tensor t = arena.allocate(DType.F32, 1);
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(), v);
        return t;
    }
}
