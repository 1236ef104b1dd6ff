package tessera.onnx;

import java.util.Arrays;
import tessera.kernels.Activation;
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

    /** An activation fused into a Conv or Gemm by the optimizer ({@code IDENTITY} when none). */
    record Fused(Activation act, float alpha) {
        public static final Fused NONE = new Fused(Activation.IDENTITY, 0f);
        /** The attributes the optimizer adds to the node that carries a fused activation. */
        public static final String ACT = "_act", ALPHA = "_alpha";
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
     * A pointwise activation: the kernel table's {@code act} with {@code alpha} for Relu, LeakyRelu, Elu, Sigmoid,
     * Tanh, Softplus, Mish; {@code act} null for Selu, HardSigmoid, HardSwish (alpha, beta/gamma from the
     * attributes) and Clip (bounds are inputs).
     */
    record Act(Activation act, float alpha, float beta) implements OpArgs {}

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

    record Cast(DType to) implements OpArgs {}

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
}
