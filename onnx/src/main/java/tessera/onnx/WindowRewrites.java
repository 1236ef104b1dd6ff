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
 * Load-time rewrites of sliding-window operators into forms the 2-D kernels run, so every interpreter (inference,
 * constant folding, the differentiable graph) sees the same graph:
 * <ul>
 * <li>1-D Conv, ConvTranspose, MaxPool, AveragePool and LpPool ({@code kernel_shape} of one value, or a rank-3
 * weight) become their 2-D form on a unit height: {@code Unsqueeze(axes=[2]) → op → Squeeze(axes=[2])}, with the
 * weight unsqueezed likewise and the attributes given a unit first dimension (indices of a 1-D MaxPool are the same
 * flat positions);</li>
 * <li>pooling pads larger than half the effective kernel (ONNX allows them, the pooling kernels and PyTorch do not)
 * become an explicit {@code Pad} before a pool without padding: −∞ for MaxPool, 0 for AveragePool with
 * count_include_pad and LpPool, and for AveragePool without count_include_pad the sum over the window divided by
 * the count of real elements, {@code AveragePool(Pad(x)) / AveragePool(Pad(ones))}. With ceil_mode or MaxPool's
 * indices output they are refused, naming the node and the pads.</li>
 * </ul>
 * 3-D windows (rank-5 inputs) are left as they are: the volume kernels ({@code tessera.kernels.volume}) run them,
 * pads beyond half the kernel included. Generated names end in {@code #…}.
 */
final class WindowRewrites {
    private final TensorArena arena;
    private final Map<String, Tensor> inits;
    private final List<OnnxNode> out = new ArrayList<>();

    private WindowRewrites(Map<String, Tensor> inits, TensorArena arena) {
        this.inits = inits;
        this.arena = arena;
    }

    static List<OnnxNode> rewrite(List<OnnxNode> nodes, Map<String, Tensor> inits, TensorArena arena) {
        WindowRewrites w = new WindowRewrites(inits, arena);
        for (OnnxNode n : nodes) w.node(n);
        return w.out;
    }

    private void node(OnnxNode n) {
        switch (n.opType()) {
            case "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool" -> {
                if (oneD(n)) oneD2d(n);
                else pool(n);
            }
            default -> out.add(n);
        }
    }

    private boolean oneD(OnnxNode n) {
        long[] k = n.getInts("kernel_shape", null);
        if (k != null) return k.length == 1;
        if (n.opType().startsWith("Conv") && n.hasInput(1)) {
            Tensor w = inits.get(n.input(1));
            if (w != null) return w.rank() == 3;
        }
        long[] s = n.getInts("strides", null), p = n.getInts("pads", null);
        return (s != null && s.length == 1) || (p != null && p.length == 2);
    }

    /** A 1-D node as its 2-D form on a unit height. */
    private void oneD2d(OnnxNode n) {
        String base = n.name() + "#2d";
        String axes = constant(n, "axes2", longs(2));
        List<String> ins = new ArrayList<>(n.inputs());
        ins.set(0, unsqueeze(base + "x", n.input(0), axes));
        if (n.opType().startsWith("Conv")) ins.set(1, unsqueeze(base + "w", n.input(1), axes));
        Map<String, OnnxAttribute> a = new LinkedHashMap<>(n.attributes());
        widen(a, "kernel_shape", 1);
        widen(a, "strides", 1);
        widen(a, "dilations", 1);
        widen(a, "output_padding", 0);
        widen(a, "output_shape", 1);
        OnnxAttribute pads = a.get("pads");
        if (pads != null && pads.ints().length == 2) a.put("pads", OnnxAttribute.ofInts("pads", new long[] {0, pads.ints()[0], 0, pads.ints()[1]}));
        List<String> outs = new ArrayList<>();
        for (String o : n.outputs()) outs.add(o.isEmpty() ? "" : o + "#2d");
        pool(n.with(n.opType(), ins, outs, a));
        for (int k = 0; k < outs.size(); k++) {
            if (outs.get(k).isEmpty()) continue;
            out.add(new OnnxNode(n.name() + "#squeeze" + k, "Squeeze", List.of(outs.get(k), axes), List.of(n.outputs().get(k)), Map.of()));
        }
    }

    private static void widen(Map<String, OnnxAttribute> a, String name, long first) {
        OnnxAttribute v = a.get(name);
        if (v != null && v.ints().length == 1) a.put(name, OnnxAttribute.ofInts(name, new long[] {first, v.ints()[0]}));
    }

    private String unsqueeze(String name, String input, String axes) {
        out.add(new OnnxNode(name, "Unsqueeze", List.of(input, axes), List.of(name), Map.of()));
        return name;
    }

    /** A 2-D pool whose explicit pads exceed half the effective kernel: explicit Pad, then a pool without pads. */
    private void pool(OnnxNode n) {
        if (!n.opType().endsWith("Pool") || !n.has("pads") || !n.has("kernel_shape")) {
            out.add(n);
            return;
        }
        long[] k = n.getInts("kernel_shape", null), p = n.getInts("pads", null);
        long[] d = n.getInts("dilations", new long[] {1, 1});
        if (k.length != 2 || p.length != 4 || d.length != 2) {
            out.add(n);
            return;
        }
        boolean large = false;
        for (int i = 0; i < 4; i++) large |= p[i] > ((k[i % 2] - 1) * d[i % 2] + 1) / 2;
        if (!large) {
            out.add(n);
            return;
        }
        String pads = java.util.Arrays.toString(p);
        if (n.getInt("ceil_mode", 0) != 0) {
            throw OpParsers.bad(n, "attribute 'pads' = " + pads + " exceeds half the kernel " + java.util.Arrays.toString(k) + " together with ceil_mode = 1, which is not supported");
        }
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
            throw OpParsers.bad(n, "attribute 'pads' = " + pads + " exceeds half the kernel " + java.util.Arrays.toString(k) + "; with the indices output this is not supported");
        }
        String base = n.name() + "#";
        String padsIn = constant(n, "pads", longs(0, 0, p[0], p[1], 0, 0, p[2], p[3]));
        boolean max = n.opType().equals("MaxPool");
        String value = constant(n, "padvalue", scalar(max ? Float.NEGATIVE_INFINITY : 0f));
        Map<String, OnnxAttribute> a = new LinkedHashMap<>(n.attributes());
        a.remove("pads");
        a.remove("count_include_pad");
        String padded = base + "padded";
        out.add(new OnnxNode(base + "pad", "Pad", List.of(n.input(0), padsIn, value), List.of(padded), Map.of()));
        boolean exclude = n.opType().equals("AveragePool") && n.getInt("count_include_pad", 0) == 0;
        if (!exclude) {
            out.add(n.with(n.opType(), List.of(padded), n.outputs(), a));
            return;
        }
        // mean over the real elements: sum / count = avg_incl(pad0(x)) / avg_incl(pad0(1))
        out.add(n.with(n.opType(), List.of(padded), List.of(base + "sum"), a));
        out.add(new OnnxNode(base + "shape", "Shape", List.of(n.input(0)), List.of(base + "shape"), Map.of()));
        out.add(new OnnxNode(base + "ones", "ConstantOfShape", List.of(base + "shape"), List.of(base + "ones"),
                Map.of("value", tensorAttr("value", scalar1(1f)))));
        out.add(new OnnxNode(base + "padones", "Pad", List.of(base + "ones", padsIn, value), List.of(base + "paddedones"), Map.of()));
        out.add(new OnnxNode(base + "count", n.opType(), List.of(base + "paddedones"), List.of(base + "count"), a));
        out.add(new OnnxNode(base + "div", "Div", List.of(base + "sum", base + "count"), n.outputs(), Map.of()));
    }

    private static OnnxAttribute tensorAttr(String name, Tensor t) {
        return new OnnxAttribute(name, OnnxAttribute.Type.TENSOR, 0, 0, null, new long[0], new float[0], t);
    }

    private String constant(OnnxNode n, String what, Tensor t) {
        String name = n.name() + "#" + what;
        out.add(new OnnxNode(name, "Constant", List.of(), List.of(name), Map.of("value", tensorAttr("value", t))));
        return name;
    }

    private Tensor longs(long... v) {
        Tensor t = arena.allocate(DType.I64, v.length);
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, t.offset() + i, v[i]);
        return t;
    }

    private Tensor scalar(float v) {
        Tensor t = arena.allocate(DType.F32);
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(), v);
        return t;
    }

    private Tensor scalar1(float v) {
        Tensor t = arena.allocate(DType.F32, 1);
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(), v);
        return t;
    }
}
