package tessera.onnx;

import java.util.Arrays;
import tessera.kernels.ActivationFn;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.kernels.volume.Pool3dSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * The typed arguments of one node, parsed and checked once from its attributes by {@link OnnxOps} (after
 * {@link OpsetNormalizer} has turned attributes that later opsets made inputs into inputs). Shape-dependent values
 * (automatic padding, pooling output sizes) are resolved here too, so every interpreter computes them alike.
 */
public sealed interface OpArgs {
    /** An operator without attributes (or whose parameters are all inputs: Slice, Squeeze, Unsqueeze, Clip, ...). */
    record None() implements OpArgs {
        public static final None INSTANCE = new None();
    }

    /**
     * The activation fused into a Conv or Gemm by the optimizer ({@link ActivationFn#IDENTITY} when none, or for a
     * residual Conv without a following activation). The planner, the differentiable graph and the profiler read it
     * from here; the node carries it as the attributes {@link #ACT} (the {@code Activation} name), {@link #ALPHA}
     * and {@link #BETA} (its two parameters).
     */
    record Fused(ActivationFn fn) {
        public static final Fused NONE = new Fused(ActivationFn.IDENTITY);
        /** The attributes the optimizer adds to the node that carries a fused activation. */
        public static final String ACT = "_act", ALPHA = "_alpha", BETA = "_beta";

        public Fused {
            if (fn == null) throw new IllegalArgumentException("fn must not be null (use ActivationFn.IDENTITY)");
        }

        /** True when nothing is fused (IDENTITY). */
        public boolean isNone() { return fn.isIdentity(); }
    }

    /**
     * A sliding window over H×W or D×H×W: kernel (null = from the weight), strides, dilations, explicit pads in ONNX
     * order ({@code [begin per axis..., end per axis...]}, for 2-D {@code [top, left, bottom, right]}) and auto_pad.
     * {@code dims} is the number of spatial axes the attributes state (2 or 3), or 0 when none has per-axis values:
     * then the arrays hold the 2-D defaults and {@link #forRank} gives the defaults of any rank.
     */
    record Window(int dims, int[] kernel, int[] strides, int[] dilations, int[] pads, String autoPad) {
        /**
         * This window for an input with {@code spatial} spatial axes: itself when the attributes state that many
         * (or none, for 2-D), the defaults of that rank when they state none; an {@link IllegalArgumentException}
         * naming both counts when they state another.
         */
        public Window forRank(int spatial) {
            if (dims == spatial || (dims == 0 && spatial == 2)) return this;
            if (dims != 0) {
                throw new IllegalArgumentException("the window attributes have " + dims + " spatial axes but the input has " + spatial
                        + " (rank " + (spatial + 2) + ")");
            }
            int[] ones = new int[spatial];
            Arrays.fill(ones, 1);
            return new Window(spatial, kernel, ones, ones.clone(), new int[2 * spatial], autoPad);
        }

        /** The pads {@code [top, left, bottom, right]} for an input of {@code inH × inW} and a {@code kh × kw} kernel. */
        public int[] pads(int inH, int inW, int kh, int kw) { return pads(new int[] {inH, inW}, new int[] {kh, kw}); }

        /**
         * The pads (ONNX order, begin per axis then end per axis) for spatial input sizes {@code in} and kernel
         * {@code k}: explicit, zero for VALID, and for SAME_* the total {@code (out − 1)·stride + (k − 1)·dilation + 1 − in}
         * with {@code out = ceil(in / stride)}, the larger half at the end for SAME_UPPER and at the start for SAME_LOWER.
         */
        public int[] pads(int[] in, int[] k) {
            int n = in.length;
            if (autoPad.equals("VALID")) return new int[2 * n];
            if (!autoPad.startsWith("SAME")) return pads.clone();
            int[] r = new int[2 * n];
            for (int a = 0; a < n; a++) {
                int outSz = (in[a] + strides[a] - 1) / strides[a];
                int total = Math.max(0, (outSz - 1) * strides[a] + (k[a] - 1) * dilations[a] + 1 - in[a]);
                int small = total / 2, big = total - small;
                r[a] = autoPad.equals("SAME_UPPER") ? small : big;
                r[a + n] = autoPad.equals("SAME_UPPER") ? big : small;
            }
            return r;
        }
    }

    /** Conv: window, group and the fused activation. */
    record Conv(Window window, int group, Fused fused) implements OpArgs {}

    /** ConvTranspose: window, group, output_padding and output_shape (spatial sizes, null when absent), per spatial axis. */
    record ConvTranspose(Window window, int group, int[] outputPadding, int[] outputShape) implements OpArgs {
        /** Pads (ONNX order) and output padding (per spatial axis) after resolving output_shape/auto_pad. */
        public record Resolved(int[] pads, int[] outputPadding) {}

        /** These arguments for an input with {@code spatial} spatial axes (see {@link Window#forRank}). */
        public ConvTranspose forRank(int spatial) {
            Window w = window.forRank(spatial);
            if (w == window) return this;
            return new ConvTranspose(w, group, new int[spatial], outputShape); // no per-axis attribute: output_padding was the default
        }

        /** {@link #resolve(int[], int[])} for 2-D: pads {@code [top, left, bottom, right]}, output padding {@code [h, w]}. */
        public Resolved resolve(int inH, int inW, int kh, int kw) { return resolve(new int[] {inH, inW}, new int[] {kh, kw}); }

        /**
         * The ONNX rule, per spatial axis: with output_shape or SAME_* auto_pad, total = stride·(in − 1) + output_padding +
         * (k − 1)·dilation + 1 − target (target = output_shape, or in·stride for SAME_*); SAME_UPPER puts total/2 at
         * the start and the rest at the end, NOTSET and SAME_LOWER put the larger half at the start. A negative total
         * (the target is larger than the unpadded output) becomes extra output padding. The window must be of
         * {@code in.length} axes ({@link Window#forRank}).
         */
        public Resolved resolve(int[] in, int[] k) {
            int n = in.length;
            ConvTranspose ranked = forRank(n);
            if (ranked != this) return ranked.resolve(in, k);
            if (outputPadding.length != n || (outputShape != null && outputShape.length != n)) {
                throw new IllegalArgumentException("output_padding " + Arrays.toString(outputPadding) + (outputShape == null ? "" : " / output_shape "
                        + Arrays.toString(outputShape)) + " do not have one value per spatial axis of the input (" + n + ")");
            }
            int[] op = outputPadding.clone();
            String ap = window.autoPad();
            if (outputShape == null && !ap.startsWith("SAME")) return new Resolved(window.pads(in, k), op);
            int[] pads = new int[2 * n], st = window.strides(), dl = window.dilations();
            for (int a = 0; a < n; a++) {
                int target = outputShape != null ? outputShape[a] : in[a] * st[a];
                int total = st[a] * (in[a] - 1) + op[a] + (k[a] - 1) * dl[a] + 1 - target;
                if (total < 0) {
                    op[a] += -total;
                    total = 0;
                }
                boolean upper = ap.equals("SAME_UPPER");
                pads[a] = upper ? total / 2 : total - total / 2;
                pads[a + n] = upper ? total - total / 2 : total / 2;
            }
            return new Resolved(pads, op);
        }
    }

    /** MaxPool, AveragePool, LpPool: pooling type, window, ceil mode, count_include_pad, p, second output wanted. */
    record Pool(PoolType type, Window window, boolean ceil, boolean countIncludePad, int p, boolean withIndices, boolean columnMajor) implements OpArgs {
        /** The kernel library's spec for an input of {@code inH × inW}. */
        public PoolSpec spec(int inH, int inW) {
            Window w = window.forRank(2);
            int[] k = w.kernel(), st = w.strides(), dl = w.dilations();
            int[] pads = w.pads(inH, inW, k[0], k[1]);
            return new PoolSpec(type, k[0], k[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3], dl[0], dl[1], ceil, countIncludePad);
        }

        /** The 3-D kernels' spec for spatial input sizes {@code in} [D, H, W] (a window of 3 axes, {@link Window#forRank}). */
        public Pool3dSpec spec3d(int[] in) {
            Window w = window.forRank(3);
            int[] k = w.kernel();
            return new Pool3dSpec(type, k, w.strides(), w.pads(in, k), w.dilations(), ceil, countIncludePad);
        }
    }

    /** MaxUnpool: kernel, strides, pads. */
    record MaxUnpool(int[] kernel, int[] strides, int[] pads) implements OpArgs {
        /** Output H and W when no output_shape input is given. */
        public int[] outputSize(int inH, int inW) {
            return new int[] {(inH - 1) * strides[0] + kernel[0] - pads[0] - pads[2], (inW - 1) * strides[1] + kernel[1] - pads[1] - pads[3]};
        }
    }

    record BatchNorm(double epsilon) implements OpArgs {}

    /**
     * Dropout: the {@code seed} attribute (opset 12+) as an unsigned 32-bit value (the attribute modulo 2^32), or
     * null when the node has none. Ratio and training_mode are inputs.
     */
    record Dropout(Long seed) implements OpArgs {}

    record Lrn(int size, double alpha, double beta, double bias) implements OpArgs {}

    /**
     * A pointwise activation with its attribute parameters: Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softplus, Mish,
     * HardSigmoid, HardSwish, Selu. (Clip is {@link None}: its bounds are inputs 1 and 2 after normalization.)
     */
    record Act(ActivationFn fn) implements OpArgs {}

    /** Softmax / LogSoftmax over one axis (opset-13 semantics; older graphs are rewritten at load). */
    record Softmax(long axis, boolean log) implements OpArgs {}

    record Gemm(float alpha, float beta, boolean transA, boolean transB, Fused fused) implements OpArgs {}

    /** Concat, Gather, Flatten: one axis (unresolved; may be negative). */
    record Axis(long axis) implements OpArgs {}

    /** Transpose: perm, null for reversal. */
    record Transpose(int[] perm) implements OpArgs {
        public int[] perm(int rank) {
            int[] p = perm;
            if (p == null) {
                p = new int[rank];
                for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
            }
            if (p.length != rank) throw new IllegalArgumentException("perm " + Arrays.toString(p) + " does not match the input rank " + rank);
            return p;
        }
    }

    /** Cast to {@code to}; {@code bool} when the ONNX type is bool (U8 holding 0/1: nonzero → 1), not uint8. */
    record Cast(DType to, boolean bool) implements OpArgs {}

    /** Shape: start and end (end null = rank). */
    record ShapeRange(long start, Long end) implements OpArgs {}

    /** Pad: mode (constant, reflect, edge); pads and value are inputs. */
    record Pad(String mode) implements OpArgs {}

    /** What a Reduce* operator computes. */
    enum Reduction { SUM, MEAN, MAX }

    /** ReduceSum/Mean/Max: the axes are input 1 (absent = every axis, unless noop_with_empty_axes). */
    record Reduce(Reduction kind, boolean keepdims, boolean noopWithEmptyAxes) implements OpArgs {}

    /** An elementwise operator (Add ... Less); Sum, Min and Max fold any number of inputs pairwise. */
    record Eltwise(Elementwise op) implements OpArgs {}

    /** Where(condition, X, Y). */
    record Where() implements OpArgs {}

    /** Constant: its value (a tensor attribute, or a scalar/list converted to a small tensor description). */
    record Constant(Tensor tensor, DType dtype, int[] shape, double[] values) implements OpArgs {}

    /** ConstantOfShape: the fill value tensor (null = float32 zero). */
    record ConstantOfShape(Tensor value) implements OpArgs {}

    record Reshape(boolean allowZero) implements OpArgs {}

    /**
     * Resize (and Upsample, rewritten to it at load): nearest, (bi)linear or (bi)cubic interpolation of H and W with
     * every ONNX coordinate transformation ({@code half_pixel}, {@code pytorch_half_pixel}, {@code align_corners},
     * {@code asymmetric}, {@code tf_half_pixel_for_nearest}, {@code tf_crop_and_resize} with its roi and
     * extrapolation value) and, for nearest, every rounding mode ({@code round_prefer_floor},
     * {@code round_prefer_ceil}, {@code floor}, {@code ceil}); cubic with {@code cubic_coeff_a} and
     * {@code exclude_outside}. The ONNX reference computes in the real-valued resized length {@code in·scale}.
     */
    record Resize(String mode, String coordinates, String nearestMode, double cubicA, boolean excludeOutside, double extrapolation)
            implements OpArgs {
        /** Source taps per output position along an axis: 1 (nearest), 2 (linear) or 4 (cubic). */
        public int taps() { return mode.equals("nearest") ? 1 : mode.equals("linear") ? 2 : 4; }

        /**
         * Per output position {@code o} along an axis of {@code in} → {@code out} elements (scale {@code scale}, crop
         * {@code roiStart..roiEnd} for tf_crop_and_resize): the source indices {@code idx[K·o + j]} and weights
         * {@code w[K·o + j]}, K = {@link #taps()}; index −1 marks a position outside the input (extrapolated).
         */
        public void table(int in, int out, double scale, double roiStart, double roiEnd, int[] idx, double[] w) {
            int k = taps();
            double resized = in * scale;
            for (int o = 0; o < out; o++) {
                double x = switch (coordinates) {
                    case "half_pixel" -> (o + 0.5) / scale - 0.5;
                    case "pytorch_half_pixel" -> resized > 1 ? (o + 0.5) / scale - 0.5 : 0;
                    case "align_corners" -> resized == 1 ? 0 : o * (in - 1.0) / (resized - 1);
                    case "asymmetric" -> o / scale;
                    case "tf_half_pixel_for_nearest" -> (o + 0.5) / scale;
                    case "tf_crop_and_resize" -> out > 1 ? roiStart * (in - 1) + o * (roiEnd - roiStart) * (in - 1) / (out - 1)
                            : 0.5 * (roiStart + roiEnd) * (in - 1);
                    default -> throw new IllegalStateException(coordinates);
                };
                if (coordinates.equals("tf_crop_and_resize") && (x < 0 || x > in - 1)) {
                    for (int j = 0; j < k; j++) {
                        idx[k * o + j] = -1;
                        w[k * o + j] = 0;
                    }
                    continue;
                }
                double f = Math.floor(x), t = x - f;
                switch (mode) {
                    case "nearest" -> {
                        long r = switch (nearestMode) {
                            case "round_prefer_floor" -> t == 0.5 ? (long) f : Math.round(x);
                            case "round_prefer_ceil" -> t == 0.5 ? (long) f + 1 : Math.round(x);
                            case "floor" -> (long) f;
                            default -> (long) Math.ceil(x);
                        };
                        idx[o] = (int) Math.max(0, Math.min(in - 1, r));
                        w[o] = 1;
                    }
                    case "linear" -> {
                        double c = Math.max(0, Math.min(in - 1, x));
                        int i0 = (int) Math.floor(c);
                        double u = c - i0;
                        idx[2 * o] = i0;
                        idx[2 * o + 1] = Math.min(i0 + 1, in - 1);
                        w[2 * o] = 1 - u;
                        w[2 * o + 1] = u;
                    }
                    default -> {
                        double a = cubicA;
                        double[] c = {((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a, ((a + 2) * t - (a + 3)) * t * t + 1,
                                ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1, ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a};
                        double sum = 0;
                        for (int j = 0; j < 4; j++) {
                            long i = (long) f - 1 + j;
                            if (excludeOutside && (i < 0 || i > in - 1)) c[j] = 0;
                            sum += c[j];
                            idx[4 * o + j] = (int) Math.max(0, Math.min(in - 1, i));
                        }
                        for (int j = 0; j < 4; j++) w[4 * o + j] = excludeOutside ? c[j] / sum : c[j];
                    }
                }
            }
        }
    }
}
