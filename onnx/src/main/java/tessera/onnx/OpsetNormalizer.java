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
 * before 18, ReduceSum axes before 13, Split's split before 13), and Softmax/LogSoftmax before 13 (which flatten to 2-D at {@code axis})
 * become {@code Flatten → Softmax(axis = 1) → Reshape(Shape(x))}. Generated names end in {@code #…}. The new
 * constants are Constant nodes, not initializers, so they are not parameters of the differentiable graph.
 */
public final class OpsetNormalizer {
    private final TensorArena arena;
    private final List<OnnxNode> out = new ArrayList<>();

    private OpsetNormalizer(TensorArena arena) { this.arena = arena; }

    /** The nodes of an opset-{@code opset} graph in newest-opset form; constants are allocated in {@code arena}. */
    static List<OnnxNode> normalize(List<OnnxNode> nodes, long opset, TensorArena arena) {
        OpsetNormalizer z = new OpsetNormalizer(arena);
        for (OnnxNode n : nodes) z.node(n, opset);
        return z.out;
    }

    /**
     * Checks an opset-6 broadcast: B must align with A's trailing dimensions at the node's {@link #LEGACY_AXIS} (what
     * numpy broadcasting does); any other axis is refused, naming the node, the attribute and the shapes.
     */
    public static void checkLegacyBroadcast(OnnxNode n, int[] a, int[] b) {
        if (!n.has(LEGACY_AXIS) || n.opType().equals("PRelu")) return;
        long axis = n.getInt(LEGACY_AXIS, 0);
        if (axis != a.length - b.length) {
            throw OpParsers.bad(n, "attribute 'axis' = " + axis + " (opset-6 broadcast) aligns B " + java.util.Arrays.toString(b) + " with A "
                    + java.util.Arrays.toString(a) + " other than at its trailing dimensions (axis " + (a.length - b.length) + "), which is not supported");
        }
    }

    /** Opset-6 broadcasting: B aligned with A at this axis (kept as an attribute, checked against the shapes by the interpreters). */
    public static final String LEGACY_AXIS = "_legacy_axis";

    private void node(OnnxNode n, long opset) {
        if (opset < 9) n = legacy(n, opset);
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
            case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL2" -> {
                if (opset < 18) moveInts(n, new String[] {"axes"}, 1); else out.add(n);
            }
            case "Split" -> {
                if (opset < 13 && !n.hasInput(1)) moveInts(n, new String[] {"split"}, 1); else out.add(n); // opset 1 also took it as an input
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
            case "Upsample" -> upsample(n, n.has("scales") ? null : n.input(1));
            case "Resize" -> {
                if (opset < 11) upsample(n, n.input(1)); else out.add(n);
            }
            default -> out.add(n);
        }
    }

    /**
     * Opsets 1–8 to opset 9: drops {@code consumed_inputs} (opset < 6 in-place hints); opset-6 binary broadcasting
     * ({@code broadcast}, {@code axis}) becomes numpy broadcasting, with the axis kept as {@link #LEGACY_AXIS} so the
     * interpreters refuse an axis that is not numpy's (trailing) alignment; Gemm's {@code broadcast} is dropped (C
     * broadcasts in every opset); BatchNormalization's and Dropout's {@code is_test} must be 1 (their training mode of
     * opsets before 7 is refused) and BatchNormalization's {@code spatial} must be 1 (per-activation statistics are
     * refused); Reshape's {@code shape} attribute (opset < 5) becomes an input; Concat's axis defaults to 1 before
     * opset 4; Pad's {@code paddings} (opset 1) is renamed {@code pads}.
     */
    private OnnxNode legacy(OnnxNode n, long opset) {
        Map<String, OnnxAttribute> a = new LinkedHashMap<>(n.attributes());
        a.remove("consumed_inputs");
        switch (n.opType()) {
            case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "Less" -> {
                if (opset < 7) {
                    OnnxAttribute b = a.remove("broadcast");
                    OnnxAttribute axis = a.remove("axis");
                    if (b != null && b.i() == 1 && axis != null) a.put(LEGACY_AXIS, OnnxAttribute.ofInt(LEGACY_AXIS, axis.i()));
                }
            }
            case "Gemm" -> {
                if (opset < 7) a.remove("broadcast");
            }
            case "PRelu" -> {
                if (opset < 7) a.put(LEGACY_AXIS, OnnxAttribute.ofInt(LEGACY_AXIS, 1)); // a 1-D slope is per channel
            }
            case "BatchNormalization", "Dropout" -> {
                OnnxAttribute t = a.remove("is_test");
                if (opset < 7 && (t == null || t.i() == 0)) {
                    throw OpParsers.bad(n, "attribute 'is_test' = " + (t == null ? "0 (default)" : t.i()) + " (opset " + opset
                            + ") asks for training mode, which Tessera supports in the opset-12+ Dropout and opset-14+ BatchNormalization forms"
                            + " only (is_test = 1 is inference)");
                }
                OnnxAttribute sp = a.remove("spatial");
                if (sp != null && sp.i() != 1) {
                    throw OpParsers.bad(n, "attribute 'spatial' = " + sp.i() + " (per-activation statistics, opset " + opset + ") is not supported");
                }
                a.remove("momentum");
            }
            case "Reshape" -> {
                if (a.containsKey("shape")) {
                    long[] shape = a.remove("shape").ints();
                    n = n.with(n.opType(), List.of(n.input(0), constant(n, "shape", longs(shape))), n.outputs(), a);
                    return n;
                }
            }
            case "Concat" -> {
                if (!a.containsKey("axis")) a.put("axis", OnnxAttribute.ofInt("axis", 1));
            }
            case "Pad" -> {
                OnnxAttribute pd = a.remove("paddings");
                if (pd != null) a.put("pads", OnnxAttribute.ofInts("pads", pd.ints()));
            }
            default -> { }
        }
        return n.with(n.opType(), n.inputs(), n.outputs(), a);
    }

    /**
     * Upsample (opsets 7–9: scales attribute or input) and Resize-10 (scales input) as Resize-11: asymmetric
     * coordinates, nearest rounding down (what they computed); mode bilinear (opset 7) is linear.
     */
    private void upsample(OnnxNode n, String scalesInput) {
        String scales = scalesInput;
        if (scales == null) {
            OnnxAttribute a = n.attributes().get("scales");
            if (a.type() != OnnxAttribute.Type.FLOATS) throw OpParsers.bad(n, "attribute 'scales' must be FLOATS");
            Tensor t = arena.allocate(DType.F32, a.floats().length);
            for (int i = 0; i < a.floats().length; i++) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset() + i, a.floats()[i]);
            scales = constant(n, "scales", t);
        }
        String mode = n.getString("mode", "nearest");
        Map<String, OnnxAttribute> a = new LinkedHashMap<>();
        a.put("mode", OnnxAttribute.ofString("mode", mode.equals("bilinear") ? "linear" : mode));
        a.put("coordinate_transformation_mode", OnnxAttribute.ofString("coordinate_transformation_mode", "asymmetric"));
        a.put("nearest_mode", OnnxAttribute.ofString("nearest_mode", "floor"));
        out.add(new OnnxNode(n.name(), "Resize", List.of(n.input(0), "", scales), n.outputs(), a));
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
