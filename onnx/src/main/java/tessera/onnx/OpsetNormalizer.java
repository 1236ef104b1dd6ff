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
 * Rewrites opset variants to the newest form once, at load, so no interpreter looks at the opset: attributes that
 * later opsets turned into inputs become {@code Constant} nodes feeding those inputs (Squeeze/Unsqueeze axes before
 * 13, Slice starts/ends/axes before 10, Pad pads/value before 11, Clip min/max before 11, ReduceMean/ReduceMax axes
 * before 18, ReduceSum axes before 13), and Softmax/LogSoftmax before 13 (which flatten to 2-D at {@code axis})
 * become {@code Flatten → Softmax(axis = 1) → Reshape(Shape(x))}. Generated names end in {@code #…}. The new
 * constants are Constant nodes, not initializers, so they are not parameters of the differentiable graph.
 */
final class OpsetNormalizer {
    private final TensorArena arena;
    private final List<OnnxNode> out = new ArrayList<>();

    private OpsetNormalizer(TensorArena arena) { this.arena = arena; }

    /** The nodes of an opset-{@code opset} graph in newest-opset form; constants are allocated in {@code arena}. */
    static List<OnnxNode> normalize(List<OnnxNode> nodes, long opset, TensorArena arena) {
        OpsetNormalizer z = new OpsetNormalizer(arena);
        for (OnnxNode n : nodes) z.node(n, opset);
        return z.out;
    }

    private void node(OnnxNode n, long opset) {
        switch (n.opType()) {
            case "Squeeze", "Unsqueeze" -> {
                if (opset < 13) moveInts(n, new String[] {"axes"}, 1); else out.add(n);
            }
            case "Slice" -> {
                if (opset < 10) {
                    if (!n.has("starts") || !n.has("ends")) throw OpParsers.bad(n, "needs attributes 'starts' and 'ends' (opset " + opset + ")");
                    moveInts(n, new String[] {"starts", "ends", "axes"}, 1);
                } else {
                    out.add(n);
                }
            }
            case "ReduceMean", "ReduceMax" -> {
                if (opset < 18) moveInts(n, new String[] {"axes"}, 1); else out.add(n);
            }
            case "ReduceSum" -> {
                if (opset < 13) moveInts(n, new String[] {"axes"}, 1); else out.add(n);
            }
            case "Pad" -> {
                if (opset < 11) {
                    if (!n.has("pads")) throw OpParsers.bad(n, "attribute 'pads' is required (opset " + opset + ")");
                    List<String> ins = new ArrayList<>(List.of(n.input(0), constant(n, "pads", longs(n.getInts("pads", null)))));
                    ins.add(constant(n, "value", floats(n.getFloat("value", 0f))));
                    out.add(n.with(n.opType(), ins, n.outputs(), without(n, "pads", "value")));
                } else {
                    out.add(n);
                }
            }
            case "Clip" -> {
                if (opset < 11) {
                    List<String> ins = new ArrayList<>(List.of(n.input(0)));
                    ins.add(n.has("min") ? constant(n, "min", floats(n.getFloat("min", 0f))) : "");
                    ins.add(n.has("max") ? constant(n, "max", floats(n.getFloat("max", 0f))) : "");
                    while (ins.get(ins.size() - 1).isEmpty() && ins.size() > 1) ins.remove(ins.size() - 1);
                    out.add(n.with(n.opType(), ins, n.outputs(), without(n, "min", "max")));
                } else {
                    out.add(n);
                }
            }
            case "Softmax", "LogSoftmax" -> {
                if (opset < 13) legacySoftmax(n); else out.add(n);
            }
            default -> out.add(n);
        }
    }

    /** Moves INTS attributes {@code attrs} (absent ones become omitted inputs) to inputs from position {@code first}. */
    private void moveInts(OnnxNode n, String[] attrs, int first) {
        List<String> ins = new ArrayList<>();
        for (int k = 0; k < first; k++) ins.add(n.input(k));
        for (String a : attrs) {
            long[] v = n.getInts(a, null);
            ins.add(v == null ? "" : constant(n, a, longs(v)));
        }
        while (ins.size() > first && ins.get(ins.size() - 1).isEmpty()) ins.remove(ins.size() - 1);
        out.add(n.with(n.opType(), ins, n.outputs(), without(n, attrs)));
    }

    /** Softmax before opset 13: coerce to 2-D at axis (default 1), normalize the second dimension, restore the shape. */
    private void legacySoftmax(OnnxNode n) {
        String x = n.input(0), base = n.name() + "#";
        long axis = n.getInt("axis", 1);
        out.add(new OnnxNode(base + "flatten", "Flatten", List.of(x), List.of(base + "2d"), Map.of("axis", OnnxAttribute.ofInt("axis", axis))));
        out.add(new OnnxNode(n.name(), n.opType(), List.of(base + "2d"), List.of(base + "softmax"), Map.of("axis", OnnxAttribute.ofInt("axis", 1))));
        out.add(new OnnxNode(base + "shape", "Shape", List.of(x), List.of(base + "shape"), Map.of()));
        out.add(new OnnxNode(base + "reshape", "Reshape", List.of(base + "softmax", base + "shape"), n.outputs(), Map.of()));
    }

    private static Map<String, OnnxAttribute> without(OnnxNode n, String... names) {
        Map<String, OnnxAttribute> m = new LinkedHashMap<>(n.attributes());
        for (String s : names) m.remove(s);
        return m;
    }

    /** Adds a Constant node holding {@code t}; returns its output name. */
    private String constant(OnnxNode n, String what, Tensor t) {
        String name = n.name() + "#" + what;
        out.add(new OnnxNode(name, "Constant", List.of(), List.of(name), Map.of("value",
                new OnnxAttribute("value", OnnxAttribute.Type.TENSOR, 0, 0, null, new long[0], new float[0], t))));
        return name;
    }

    private Tensor longs(long[] v) {
        Tensor t = arena.allocate(DType.I64, v.length);
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, t.offset() + i, v[i]);
        return t;
    }

    private Tensor floats(float v) {
        Tensor t = arena.allocate(DType.F32);
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(), v);
        return t;
    }
}
