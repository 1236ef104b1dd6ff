package tessera.onnx;

import java.util.Arrays;
import tessera.kernels.ActivationFn;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
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
     * A sliding window over H×W: kernel (null = from the weight), strides, dilations, explicit pads
     * {@code [top, left, bottom, right]} and auto_pad.
     */
    record Window(int[] kernel, int[] strides, int[] dilations, int[] pads, String autoPad) {
        /** The pads {@code [top, left, bottom, right]} for an input of {@code inH × inW} and a {@code kh × kw} kernel. */
        public int[] pads(int inH, int inW, int kh, int kw) {
            if (autoPad.equals("VALID")) return new int[4];
            if (!autoPad.startsWith("SAME")) return pads.clone();
            int[] r = new int[4], in = {inH, inW}, k = {kh, kw};
            for (int a = 0; a < 2; a++) {
                int outSz = (in[a] + strides[a] - 1) / strides[a];
                int total = Math.max(0, (outSz - 1) * strides[a] + (k[a] - 1) * dilations[a] + 1 - in[a]);
                int small = total / 2, big = total - small;
                r[a] = autoPad.equals("SAME_UPPER") ? small : big;
                r[a + 2] = autoPad.equals("SAME_UPPER") ? big : small;
            }
            return r;
        }
    }

    /** Conv: window, group and the fused activation. */
    record Conv(Window window, int group, Fused fused) implements OpArgs {}

    /** ConvTranspose: window, group, output_padding and output_shape ([H, W], null when absent). */
    record ConvTranspose(Window window, int group, int[] outputPadding, int[] outputShape) implements OpArgs {
        /** Pads {@code [top, left, bottom, right]} and output padding {@code [h, w]} after resolving output_shape/auto_pad. */
        public record Resolved(int[] pads, int[] outputPadding) {}

        /**
         * The ONNX rule: with output_shape or SAME_* auto_pad, total = stride·(in − 1) + output_padding +
         * (k − 1)·dilation + 1 − target (target = output_shape, or in·stride for SAME_*); SAME_UPPER puts total/2 at
         * the start and the rest at the end, NOTSET and SAME_LOWER put the larger half at the start. A negative total
         * (the target is larger than the unpadded output) becomes extra output padding.
         */
        public Resolved resolve(int inH, int inW, int kh, int kw) {
            int[] op = outputPadding.clone();
            String ap = window.autoPad();
            if (outputShape == null && !ap.startsWith("SAME")) return new Resolved(window.pads(inH, inW, kh, kw), op);
            int[] pads = new int[4], in = {inH, inW}, k = {kh, kw}, st = window.strides(), dl = window.dilations();
            for (int a = 0; a < 2; a++) {
                int target = outputShape != null ? outputShape[a] : in[a] * st[a];
                int total = st[a] * (in[a] - 1) + op[a] + (k[a] - 1) * dl[a] + 1 - target;
                if (total < 0) {
                    op[a] += -total;
                    total = 0;
                }
                boolean upper = ap.equals("SAME_UPPER");
                pads[a] = upper ? total / 2 : total - total / 2;
                pads[a + 2] = upper ? total - total / 2 : total / 2;
            }
            return new Resolved(pads, op);
        }
    }

    /** MaxPool, AveragePool, LpPool: pooling type, window, ceil mode, count_include_pad, p, second output wanted. */
    record Pool(PoolType type, Window window, boolean ceil, boolean countIncludePad, int p, boolean withIndices, boolean columnMajor) implements OpArgs {
        /** The kernel library's spec for an input of {@code inH × inW}. */
        public PoolSpec spec(int inH, int inW) {
            int[] k = window.kernel(), st = window.strides(), dl = window.dilations();
            int[] pads = window.pads(inH, inW, k[0], k[1]);
            return new PoolSpec(type, k[0], k[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3], dl[0], dl[1], ceil, countIncludePad);
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
