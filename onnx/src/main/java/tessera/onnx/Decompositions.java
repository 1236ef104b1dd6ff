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
 * {@code InstanceNormalization} = the same over [N, C, S] (every axis after the channels flattened) with a per-channel
 * scale and bias; training-mode {@code BatchNormalization} = the same with the statistics over N and S, plus the
 * running-statistics outputs; {@code DepthToSpace} (DCR and CRD) and {@code SpaceToDepth} = Reshape → 6-D Transpose → Reshape;
 * {@code Split} = one Slice per output (sizes from the {@code split} input — {@link OpsetNormalizer} turns the
 * attribute of opsets before 13 into it — or equal parts of ⌈d / outputs⌉, the last one shorter, as in opset 18;
 * sizes that do not add up to the axis, and an axis the outputs do not divide without {@code num_outputs}, are
 * refused at planning by a folded Reshape check);
 * {@code Expand} = Where(ConstantOfShape(shape, true), x, x), whose three-way broadcast is exactly Expand's;
 * {@code Tile} (repeats known at load) = Unsqueeze to [1, d0, 1, d1, …] → Expand to [r0, d0, r1, d1, …] →
 * Reshape to shape·repeats. Shape arithmetic is Shape/Slice/Concat/Mul/Div, folded at planning.
 * Generated names end in {@code #…}.
 */
final class Decompositions {
    private final TensorArena arena;
    private final Map<String, Tensor> inits;
    private final List<OnnxNode> out = new ArrayList<>();

    private Decompositions(Map<String, Tensor> inits, TensorArena arena) {
        this.inits = inits;
        this.arena = arena;
    }

    static List<OnnxNode> rewrite(List<OnnxNode> nodes, Map<String, Tensor> inits, TensorArena arena) {
        Decompositions d = new Decompositions(inits, arena);
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
            case "InstanceNormalization" -> {
                add(b + "flat", "Reshape", List.of(n.input(0), constant(n, "ncs", longs(0, 0, -1))), b + "flat", Map.of());
                String ax = constant(n, "axes", longs(2));
                add(b + "mean", "ReduceMean", List.of(b + "flat", ax), b + "mean", Map.of());
                add(b + "d", "Sub", List.of(b + "flat", b + "mean"), b + "d", Map.of());
                add(b + "d2", "Mul", List.of(b + "d", b + "d"), b + "d2", Map.of());
                add(b + "var", "ReduceMean", List.of(b + "d2", ax), b + "var", Map.of());
                add(b + "veps", "Add", List.of(b + "var", constant(n, "eps", floats(n.getFloat("epsilon", 1e-5f)))), b + "veps", Map.of());
                add(b + "std", "Sqrt", List.of(b + "veps"), b + "std", Map.of());
                add(b + "norm", "Div", List.of(b + "d", b + "std"), b + "norm", Map.of());
                String c1 = constant(n, "c1", longs(-1, 1));
                add(b + "scale", "Reshape", List.of(n.input(1), c1), b + "scale", Map.of());
                add(b + "bias", "Reshape", List.of(n.input(2), c1), b + "bias", Map.of());
                add(b + "scaled", "Mul", List.of(b + "norm", b + "scale"), b + "scaled", Map.of());
                add(b + "shifted", "Add", List.of(b + "scaled", b + "bias"), b + "shifted", Map.of());
                add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
                add(n.name(), "Reshape", List.of(b + "shifted", b + "shape"), y, Map.of());
            }
            case "BatchNormalization" -> {
                if (n.getInt("training_mode", 0) == 1 && n.inputs().size() == 5) batchNormTraining(n, b, y);
                else out.add(n); // inference form (or an invalid node, refused by its parser)
            }
            case "DepthToSpace", "SpaceToDepth" -> spaceDepth(n, b, y);
            case "Split" -> split(n, b);
            case "Expand" -> expand(n, b, n.input(0), n.input(1), y);
            case "Tile" -> {
                long[] reps = constantLongs(n, 1, "repeats");
                long[] axes = new long[reps.length], eshape = new long[2 * reps.length];
                for (int i = 0; i < reps.length; i++) {
                    if (reps[i] < 0) throw OpParsers.bad(n, "input 'repeats' " + java.util.Arrays.toString(reps) + " has a negative entry");
                    axes[i] = 2L * i;
                    eshape[2 * i] = reps[i];
                    eshape[2 * i + 1] = 1;
                }
                add(b + "interleaved", "Unsqueeze", List.of(n.input(0), constant(n, "axes", longs(axes))), b + "interleaved", Map.of());
                expand(n, b, b + "interleaved", constant(n, "eshape", longs(eshape)), b + "expanded");
                add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
                add(b + "oshape", "Mul", List.of(b + "shape", constant(n, "reps", longs(reps))), b + "oshape", Map.of());
                add(n.name(), "Reshape", List.of(b + "expanded", b + "oshape"), y, Map.of());
            }
            default -> out.add(n);
        }
    }

    /**
     * Training-mode BatchNormalization (opset 14+): statistics of the batch per channel over [N, C, S] (every axis
     * after the channels flattened), population variance, Y = (x − mean) / √(var + ε) · scale + B; the optional
     * outputs are the running statistics input_mean · momentum + mean · (1 − momentum) and the same for the
     * variance (population, as ONNX's reference computes it), each [C].
     */
    private void batchNormTraining(OnnxNode n, String b, String y) {
        float eps = n.getFloat("epsilon", 1e-5f), momentum = n.getFloat("momentum", 0.9f);
        if (!(eps >= 0)) throw OpParsers.bad(n, "attribute 'epsilon' must be >= 0");
        add(b + "flat", "Reshape", List.of(n.input(0), constant(n, "ncs", longs(0, 0, -1))), b + "flat", Map.of());
        String ax = constant(n, "axes", longs(0, 2));
        add(b + "mean", "ReduceMean", List.of(b + "flat", ax), b + "mean", Map.of());
        add(b + "d", "Sub", List.of(b + "flat", b + "mean"), b + "d", Map.of());
        add(b + "d2", "Mul", List.of(b + "d", b + "d"), b + "d2", Map.of());
        add(b + "var", "ReduceMean", List.of(b + "d2", ax), b + "var", Map.of());
        add(b + "veps", "Add", List.of(b + "var", constant(n, "eps", floats(eps))), b + "veps", Map.of());
        add(b + "std", "Sqrt", List.of(b + "veps"), b + "std", Map.of());
        add(b + "norm", "Div", List.of(b + "d", b + "std"), b + "norm", Map.of());
        String c = constant(n, "c", longs(1, -1, 1));
        add(b + "scale", "Reshape", List.of(n.input(1), c), b + "scale", Map.of());
        add(b + "bias", "Reshape", List.of(n.input(2), c), b + "bias", Map.of());
        add(b + "scaled", "Mul", List.of(b + "norm", b + "scale"), b + "scaled", Map.of());
        add(b + "shifted", "Add", List.of(b + "scaled", b + "bias"), b + "shifted", Map.of());
        add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
        add(n.name(), "Reshape", List.of(b + "shifted", b + "shape"), y, Map.of());
        String keep = constant(n, "momentum", floats(momentum)), take = constant(n, "one_minus_momentum", floats(1.0 - momentum));
        String[] stat = {"mean", "var"};
        for (int k = 0; k < 2; k++) {
            if (n.outputs().size() <= k + 1 || n.outputs().get(k + 1).isEmpty()) continue;
            String r = b + "running_" + stat[k];
            add(r + "_batch", "Reshape", List.of(b + stat[k], constant(n, "c_" + stat[k], longs(-1))), r + "_batch", Map.of());
            add(r + "_new", "Mul", List.of(r + "_batch", take), r + "_new", Map.of());
            add(r + "_old", "Mul", List.of(n.input(3 + k), keep), r + "_old", Map.of());
            add(r, "Add", List.of(r + "_old", r + "_new"), n.outputs().get(k + 1), Map.of());
        }
    }

    /** Expand(x, shape) = Where(ConstantOfShape(shape, true), x, x): the output has the broadcast of x's shape and shape. */
    private void expand(OnnxNode n, String b, String x, String shape, String y) {
        Tensor t = arena.allocate(DType.U8, 1);
        t.segment().set(ValueLayout.JAVA_BYTE, t.offset(), (byte) 1);
        add(b + "true", "ConstantOfShape", List.of(shape), b + "true", Map.of("value", tensorAttr(t)));
        add(b + "where", "Where", List.of(b + "true", x, x), y, Map.of());
    }

    /** [N, C, H, W] ↔ [N, C·b², H/b, W/b] through a 6-D view and its transpose (ONNX's reference definitions). */
    private void spaceDepth(OnnxNode n, String b, String y) {
        long bs = n.getInt("blocksize", 0);
        if (bs < 1) throw OpParsers.bad(n, "attribute 'blocksize' = " + bs + " must be >= 1" + (n.has("blocksize") ? "" : " (it is required)"));
        add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
        String[] d = new String[4];
        for (int k = 0; k < 4; k++) {
            d[k] = b + "d" + k;
            add(d[k], "Slice", List.of(b + "shape", constant(n, "s" + k, longs(k)), constant(n, "e" + k, longs(k + 1))), d[k], Map.of());
        }
        String bb = constant(n, "b", longs(bs)), b2 = constant(n, "b2", longs(bs * bs));
        String view;
        long[] perm;
        List<String> outDims;
        if (n.opType().equals("DepthToSpace")) {
            String mode = n.getString("mode", "DCR");
            add(b + "cb", "Div", List.of(d[1], b2), b + "cb", Map.of());
            add(b + "hb", "Mul", List.of(d[2], bb), b + "hb", Map.of());
            add(b + "wb", "Mul", List.of(d[3], bb), b + "wb", Map.of());
            switch (mode) {
                case "DCR" -> {
                    view = concat(b + "view", d[0], bb, bb, b + "cb", d[2], d[3]);
                    perm = new long[] {0, 3, 4, 1, 5, 2};
                }
                case "CRD" -> {
                    view = concat(b + "view", d[0], b + "cb", bb, bb, d[2], d[3]);
                    perm = new long[] {0, 1, 4, 2, 5, 3};
                }
                default -> throw OpParsers.bad(n, "attribute 'mode' = '" + mode + "' is not DCR or CRD");
            }
            outDims = List.of(d[0], b + "cb", b + "hb", b + "wb");
        } else {
            add(b + "hb", "Div", List.of(d[2], bb), b + "hb", Map.of());
            add(b + "wb", "Div", List.of(d[3], bb), b + "wb", Map.of());
            add(b + "cb", "Mul", List.of(d[1], b2), b + "cb", Map.of());
            view = concat(b + "view", d[0], d[1], b + "hb", bb, b + "wb", bb);
            perm = new long[] {0, 3, 5, 1, 2, 4};
            outDims = List.of(d[0], b + "cb", b + "hb", b + "wb");
        }
        add(b + "6d", "Reshape", List.of(n.input(0), view), b + "6d", Map.of());
        add(b + "perm", "Transpose", List.of(b + "6d"), b + "perm", Map.of("perm", OnnxAttribute.ofInts("perm", perm)));
        add(n.name(), "Reshape", List.of(b + "perm", concat(b + "oshape", outDims.toArray(String[]::new))), y, Map.of());
    }

    private String concat(String name, String... parts) {
        add(name, "Concat", List.of(parts), name, Map.of("axis", OnnxAttribute.ofInt("axis", 0)));
        return name;
    }

    /** One Slice per output along {@code axis}; sizes from the split input (known at load) or equal parts. */
    private void split(OnnxNode n, String b) {
        long axis = n.getInt("axis", 0);
        int k = n.outputs().size();
        if (n.has("num_outputs") && n.getInt("num_outputs", 0) != k) {
            throw OpParsers.bad(n, "attribute 'num_outputs' = " + n.getInt("num_outputs", 0) + " but the node has " + k + " outputs " + n.outputs());
        }
        String ax = constant(n, "axis", longs(axis));
        if (n.hasInput(1)) {
            long[] sizes = constantLongs(n, 1, "split");
            if (sizes.length != k) throw OpParsers.bad(n, "input 'split' " + java.util.Arrays.toString(sizes) + " has " + sizes.length + " sizes for " + k + " outputs");
            long start = 0;
            for (int i = 0; i < k; i++) {
                if (sizes[i] < 0) throw OpParsers.bad(n, "input 'split' " + java.util.Arrays.toString(sizes) + " has a negative size");
                String o = n.outputs().get(i);
                if (!o.isEmpty()) {
                    add(b + "part" + i, "Slice", List.of(n.input(0), constant(n, "start" + i, longs(start)), constant(n, "end" + i, longs(start + sizes[i])), ax),
                            o, Map.of());
                }
                start += sizes[i];
            }
            // the sizes must add up to the axis: a [d] constant reshaped to [Σ sizes], folded at planning, refuses otherwise
            check(n, b, axis, "sizes_must_sum_to_the_axis", longs(start));
            return;
        }
        // equal parts of ceil(d / k): d from the input's shape, folded at planning; before opset 18 (no num_outputs) k must divide d
        String dim = axisLength(n, b, axis);
        if (!n.has("num_outputs")) check(n, b, axis, "outputs_must_divide_the_axis", longs(k, -1));
        add(b + "dk", "Add", List.of(dim, constant(n, "km1", longs(k - 1))), b + "dk", Map.of());
        add(b + "chunk", "Div", List.of(b + "dk", constant(n, "k", longs(k))), b + "chunk", Map.of());
        for (int i = 0; i < k; i++) {
            String o = n.outputs().get(i);
            if (o.isEmpty()) continue;
            add(b + "start" + i, "Mul", List.of(b + "chunk", constant(n, "i" + i, longs(i))), b + "start" + i, Map.of());
            add(b + "end" + i, "Mul", List.of(b + "chunk", constant(n, "i" + (i + 1), longs(i + 1))), b + "end" + i, Map.of());
            add(b + "part" + i, "Slice", List.of(n.input(0), b + "start" + i, b + "end" + i, ax), o, Map.of());
        }
    }

    /** Shape(x)[axis] as a [1] int64 tensor (folded at planning). */
    private String axisLength(OnnxNode n, String b, long axis) {
        if (out.stream().noneMatch(o -> o.name().equals(b + "d"))) {
            add(b + "shape", "Shape", List.of(n.input(0)), b + "shape", Map.of());
            String end = axis == -1 ? constant(n, "dend", longs(Long.MAX_VALUE)) : constant(n, "dend", longs(axis + 1));
            add(b + "d", "Slice", List.of(b + "shape", constant(n, "dstart", longs(axis)), end), b + "d", Map.of());
        }
        return b + "d";
    }

    /**
     * A planning-time check that refuses, naming {@code n}'s generated node {@code what} and the shapes, unless a
     * tensor of Shape(x)[axis] elements reshapes to {@code shape}; its output is read by nobody and costs no step.
     */
    private void check(OnnxNode n, String b, long axis, String what, Tensor shape) {
        String dim = axisLength(n, b, axis);
        add(b + "axis_elements", "ConstantOfShape", List.of(dim), b + "axis_elements", Map.of());
        add(b + what, "Reshape", List.of(b + "axis_elements", constant(n, what + "_shape", shape)), b + what, Map.of());
    }

    /** The int64 values of input {@code k} when it is an initializer or a Constant node's output; otherwise a refusal. */
    private long[] constantLongs(OnnxNode n, int k, String what) {
        String name = n.input(k);
        Tensor t = inits.get(name);
        if (t == null) {
            for (OnnxNode c : out) {
                if (c.opType().equals("Constant") && c.outputs().get(0).equals(name) && c.has("value")) t = c.getTensor("value");
            }
        }
        if (t == null) throw OpParsers.bad(n, "input '" + what + "' ('" + name + "') must be an initializer or a Constant (it is computed at run time), which is not supported");
        if (t.dtype() != DType.I64 || t.shape().length != 1) {
            throw OpParsers.bad(n, "input '" + what + "' ('" + name + "') must be a 1-D int64 tensor, not " + t.dtype() + " " + java.util.Arrays.toString(t.shape()));
        }
        long[] v = new long[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, t.offset() + i);
        return v;
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
