package tessera.onnx;

import java.util.Arrays;
import java.util.Set;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.memory.DType;

/** Attribute parsing and checking for {@link OnnxOps}: one method per argument kind; errors name node and attribute. */
final class OpParsers {
    private static final String ACT = OpArgs.Fused.ACT, ALPHA = OpArgs.Fused.ALPHA, BETA = OpArgs.Fused.BETA;

    private OpParsers() {}

    static OnnxFormatException bad(OnnxNode n, String what) { return new OnnxFormatException(n.describe() + ": " + what); }

    static OpArgs none(OnnxNode n) { return OpArgs.None.INSTANCE; }

    private static int[] positive(OnnxNode n, String attr) {
        int[] v = n.getIntArray(attr, null);
        if (v == null) return null;
        if (v.length != 2 && v.length != 3) {
            throw bad(n, "attribute '" + attr + "' = " + Arrays.toString(v) + " must have 2 or 3 values (a 2-D or 3-D window; 1-D ones are rewritten to 2-D at load)");
        }
        for (int x : v) if (x < 1) throw bad(n, "attribute '" + attr + "' = " + Arrays.toString(v) + " must be >= 1");
        return v;
    }

    private static int[] pads(OnnxNode n) {
        int[] p = n.getIntArray("pads", null);
        if (p == null) return null;
        if (p.length != 4 && p.length != 6) throw bad(n, "attribute 'pads' = " + Arrays.toString(p) + " must have 4 or 6 values (begin and end of each of 2 or 3 axes)");
        for (int x : p) if (x < 0) throw bad(n, "attribute 'pads' = " + Arrays.toString(p) + " must be >= 0");
        return p;
    }

    /**
     * The number of spatial axes the given per-axis attributes state (2 or 3; 0 when none is given); attributes that
     * disagree are an error naming them.
     */
    private static int dims(OnnxNode n, String[] names, int[][] values, int[] perAxis) {
        int dims = 0;
        String first = null;
        for (int i = 0; i < names.length; i++) {
            if (values[i] == null) continue;
            int d = values[i].length / perAxis[i];
            if (dims == 0) {
                dims = d;
                first = names[i];
            } else if (d != dims) {
                throw bad(n, "attribute '" + names[i] + "' = " + Arrays.toString(values[i]) + " is for " + d + " spatial axes but '" + first + "' = "
                        + Arrays.toString(n.getIntArray(first, null)) + " is for " + dims);
            }
        }
        return dims;
    }

    private static int[] ones(int dims) {
        int[] v = new int[dims];
        Arrays.fill(v, 1);
        return v;
    }

    private static String autoPad(OnnxNode n) {
        String ap = n.getString("auto_pad", "NOTSET");
        if (!Set.of("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID").contains(ap)) {
            throw bad(n, "attribute 'auto_pad' = '" + ap + "', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
        }
        if (!ap.equals("NOTSET") && n.has("pads")) throw bad(n, "has both 'auto_pad' = '" + ap + "' and explicit 'pads'");
        return ap;
    }

    private static OpArgs.Window window(OnnxNode n, boolean kernelRequired, String[] extra, int[][] extraValues) {
        int[] k = positive(n, "kernel_shape"), st = positive(n, "strides"), dl = positive(n, "dilations"), p = pads(n);
        if (kernelRequired && k == null) throw bad(n, "attribute 'kernel_shape' is required");
        String[] names = {"kernel_shape", "strides", "dilations", "pads"};
        int[][] values = {k, st, dl, p};
        int[] perAxis = {1, 1, 1, 2};
        if (extra.length > 0) {
            names = java.util.stream.Stream.concat(Arrays.stream(names), Arrays.stream(extra)).toArray(String[]::new);
            values = java.util.stream.Stream.concat(Arrays.stream(values), Arrays.stream(extraValues)).toArray(int[][]::new);
            perAxis = Arrays.copyOf(perAxis, names.length);
            Arrays.fill(perAxis, 4, names.length, 1);
        }
        int dims = dims(n, names, values, perAxis);
        int d = dims == 0 ? 2 : dims;
        return new OpArgs.Window(dims, k, st == null ? ones(d) : st, dl == null ? ones(d) : dl, p == null ? new int[2 * d] : p, autoPad(n));
    }

    private static OpArgs.Window window(OnnxNode n, boolean kernelRequired) { return window(n, kernelRequired, new String[0], new int[0][]); }

    private static int group(OnnxNode n) {
        long g = n.getInt("group", 1);
        if (g < 1) throw bad(n, "attribute 'group' = " + g + " must be >= 1");
        return (int) g;
    }

    private static boolean flag(OnnxNode n, String attr, long dflt) {
        long v = n.getInt(attr, dflt);
        if (v != 0 && v != 1) throw bad(n, "attribute '" + attr + "' = " + v + ", expected 0 or 1");
        return v == 1;
    }

    /** The activation the optimizer fused into this node ({@code _act}, {@code _alpha}, {@code _beta}), or none. */
    static OpArgs.Fused fused(OnnxNode n) {
        if (!n.has(ACT)) return OpArgs.Fused.NONE;
        String kind = n.getString(ACT, "IDENTITY");
        try {
            return new OpArgs.Fused(new ActivationFn(Activation.valueOf(kind), n.getFloat(ALPHA, 0f), n.getFloat(BETA, 0f)));
        } catch (IllegalArgumentException e) {
            throw bad(n, "fused activation '" + kind + "': " + e.getMessage());
        }
    }

    /** A pointwise activation whose parameters come from attributes; invalid parameters (NaN, infinite) name the node. */
    static OpArgs.Act act(OnnxNode n, java.util.function.Supplier<ActivationFn> fn) {
        try {
            return new OpArgs.Act(fn.get());
        } catch (IllegalArgumentException e) {
            throw bad(n, e.getMessage());
        }
    }

    static OpArgs conv(OnnxNode n) {
        if (n.inputs().size() > 3 && !n.has(ACT)) throw bad(n, "has " + n.inputs().size() + " inputs " + n.inputs() + ", expected 2..3");
        return new OpArgs.Conv(window(n, false), group(n), fused(n));
    }

    static OpArgs convTranspose(OnnxNode n) {
        int[] op = n.getIntArray("output_padding", null);
        if (op != null && ((op.length != 2 && op.length != 3) || Arrays.stream(op).anyMatch(v -> v < 0))) {
            throw bad(n, "attribute 'output_padding' = " + Arrays.toString(op) + " must be 2 or 3 values >= 0");
        }
        int[] os = n.getIntArray("output_shape", null);
        if (os != null && (os.length == 4 || os.length == 5)) os = Arrays.copyOfRange(os, 2, os.length); // full [N, C, spatial...] form
        if (os != null && ((os.length != 2 && os.length != 3) || Arrays.stream(os).anyMatch(v -> v < 1))) {
            throw bad(n, "attribute 'output_shape' = " + Arrays.toString(n.getIntArray("output_shape", null)) + " must be 2 or 3 values >= 1 (the spatial sizes)");
        }
        OpArgs.Window w = window(n, false, new String[] {"output_padding", "output_shape"}, new int[][] {op, os});
        int d = w.dims() == 0 ? 2 : w.dims();
        return new OpArgs.ConvTranspose(w, group(n), op == null ? new int[d] : op, os);
    }

    static OpArgs pool(OnnxNode n) {
        OpArgs.Window w = window(n, true);
        boolean ceil = flag(n, "ceil_mode", 0);
        boolean cip = n.opType().equals("AveragePool") && flag(n, "count_include_pad", 0);
        boolean withIdx = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty();
        boolean columnMajor = n.opType().equals("MaxPool") && flag(n, "storage_order", 0);
        int p = (int) n.getInt("p", 2);
        if (n.opType().equals("LpPool") && p != 2) throw bad(n, "attribute 'p' = " + p + " is not supported (only p = 2)");
        return new OpArgs.Pool(OnnxOps.poolType(n.opType()), w, ceil, cip, p, n.opType().equals("MaxPool") && withIdx, columnMajor);
    }

    static OpArgs maxUnpool(OnnxNode n) {
        int[] k = positive(n, "kernel_shape"), st = positive(n, "strides"), p = pads(n);
        if (k == null) throw bad(n, "attribute 'kernel_shape' is required");
        int dims = dims(n, new String[] {"kernel_shape", "strides", "pads"}, new int[][] {k, st, p}, new int[] {1, 1, 2});
        if (dims != 2) throw bad(n, "attribute 'kernel_shape' = " + Arrays.toString(k) + ": only 2-D (and 1-D) MaxUnpool is supported, not " + dims + "-D");
        return new OpArgs.MaxUnpool(k, st == null ? ones(2) : st, p == null ? new int[4] : p);
    }

    static OpArgs batchNorm(OnnxNode n) {
        // training mode (1) is rewritten into table operators at load (Decompositions) when the node has its 5 inputs
        if (flag(n, "training_mode", 0)) throw bad(n, "attribute 'training_mode' = 1 on a node that was not rewritten for training mode");
        float eps = n.getFloat("epsilon", 1e-5f);
        if (eps < 0) throw bad(n, "attribute 'epsilon' must be >= 0");
        return new OpArgs.BatchNorm(eps);
    }

    static OpArgs dropout(OnnxNode n) {
        return new OpArgs.Dropout(n.has("seed") ? n.getInt("seed", 0) & 0xFFFF_FFFFL : null);
    }

    static OpArgs lrn(OnnxNode n) {
        long size = n.getInt("size", -1);
        if (size < 1) throw bad(n, "attribute 'size' = " + size + " is required and must be >= 1");
        return new OpArgs.Lrn((int) size, n.getFloat("alpha", 1e-4f), n.getFloat("beta", 0.75f), n.getFloat("bias", 1f));
    }

    static OpArgs gemm(OnnxNode n) {
        return new OpArgs.Gemm(n.getFloat("alpha", 1f), n.getFloat("beta", 1f), flag(n, "transA", 0), flag(n, "transB", 0), fused(n));
    }

    static OpArgs concat(OnnxNode n) {
        if (!n.has("axis")) throw bad(n, "attribute 'axis' is required");
        return new OpArgs.Axis(n.getInt("axis", 0));
    }

    static OpArgs reshape(OnnxNode n) {
        return new OpArgs.Reshape(flag(n, "allowzero", 0));
    }

    static OpArgs pad(OnnxNode n) {
        String mode = n.getString("mode", "constant");
        if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge")) {
            throw bad(n, "attribute 'mode' = '" + mode + "', expected constant, reflect or edge");
        }
        if (n.hasInput(3)) throw bad(n, "the 'axes' input (opset 18) is not supported");
        return new OpArgs.Pad(mode);
    }

    static OpArgs reduce(OnnxNode n, OpArgs.Reduction kind) {
        boolean keep = flag(n, "keepdims", 1);
        boolean noop = flag(n, "noop_with_empty_axes", 0);
        return new OpArgs.Reduce(kind, keep, noop);
    }

    static OpArgs resize(OnnxNode n) {
        String mode = n.getString("mode", "nearest");
        if (mode.equals("bilinear")) mode = "linear";
        if (mode.equals("bicubic")) mode = "cubic";
        if (!Set.of("nearest", "linear", "cubic").contains(mode)) throw bad(n, "attribute 'mode' = '" + mode + "', expected nearest, linear or cubic");
        String ct = n.getString("coordinate_transformation_mode", "half_pixel");
        if (ct.equals("tf_half_pixel_for_nn")) ct = "tf_half_pixel_for_nearest"; // its name in opset-11 drafts
        if (!Set.of("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest", "tf_crop_and_resize").contains(ct)) {
            throw bad(n, "attribute 'coordinate_transformation_mode' = '" + ct + "', expected half_pixel, pytorch_half_pixel, "
                    + "align_corners, asymmetric, tf_half_pixel_for_nearest or tf_crop_and_resize");
        }
        String nm = n.getString("nearest_mode", "round_prefer_floor");
        if (!Set.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil").contains(nm)) {
            throw bad(n, "attribute 'nearest_mode' = '" + nm + "', expected round_prefer_floor, round_prefer_ceil, floor or ceil");
        }
        if (n.getInt("antialias", 0) != 0) throw bad(n, "attribute 'antialias' = 1 is not supported");
        if (n.has("axes")) throw bad(n, "attribute 'axes' (opset 18) is not supported");
        String policy = n.getString("keep_aspect_ratio_policy", "stretch");
        if (!policy.equals("stretch")) throw bad(n, "attribute 'keep_aspect_ratio_policy' = '" + policy + "' is not supported (stretch only)");
        return new OpArgs.Resize(mode, ct, nm, n.getFloat("cubic_coeff_a", -0.75f), flag(n, "exclude_outside", 0),
                n.getFloat("extrapolation_value", 0f));
    }

    static OpArgs cast(OnnxNode n) {
        long to = n.getInt("to", -1);
        return new OpArgs.Cast(OnnxOps.dtype(n, to), to == OnnxTensors.BOOL);
    }

    static OpArgs constant(OnnxNode n) {
        if (n.attributes().size() != 1) throw bad(n, "must have exactly one value attribute, has " + n.attributes().keySet());
        OnnxAttribute a = n.attributes().values().iterator().next();
        return switch (a.name()) {
            case "value" -> {
                if (a.type() != OnnxAttribute.Type.TENSOR || a.t() == null) throw bad(n, "attribute 'value' must be a tensor");
                yield new OpArgs.Constant(a.t(), a.t().dtype(), a.t().shape(), null);
            }
            case "value_float" -> new OpArgs.Constant(null, DType.F32, new int[0], new double[] {n.getFloat("value_float", 0f)});
            case "value_int" -> new OpArgs.Constant(null, DType.I64, new int[0], new double[] {n.getInt("value_int", 0)});
            case "value_ints" -> {
                long[] v = n.getInts("value_ints", new long[0]);
                double[] d = new double[v.length];
                for (int i = 0; i < d.length; i++) d[i] = v[i];
                yield new OpArgs.Constant(null, DType.I64, new int[] {d.length}, d);
            }
            case "value_floats" -> {
                if (a.type() != OnnxAttribute.Type.FLOATS) throw bad(n, "attribute 'value_floats' must be FLOATS");
                double[] d = new double[a.floats().length];
                for (int i = 0; i < d.length; i++) d[i] = a.floats()[i];
                yield new OpArgs.Constant(null, DType.F32, new int[] {d.length}, d);
            }
            default -> throw bad(n, "attribute '" + a.name() + "' is not supported (use value, value_float(s) or value_int(s))");
        };
    }
}
