package tessera.onnx.infer;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Training-mode Dropout (opset 12+, input 2 {@code training_mode} a constant true, ratio r in (0, 1)):
 * {@code y = mask · x / (1 − r)}, x's shape and element type (floating point), and the optional {@code mask}
 * output (bool, x's shape), with {@code mask = u ≥ r} for one u uniform in [0, 1) per element in row-major order.
 *
 * <p>With a {@code seed} attribute the draws reproduce numpy's legacy generator,
 * {@code numpy.random.RandomState(seed).uniform(0, 1, x.shape)} ({@link Mt19937}; the seed taken modulo 2^32), as
 * ONNX's reference implementation draws them: every run with a given shape gives the same mask. Without one, every
 * run (and every {@code vjp}) draws a fresh seed. Training mode with ratio 0, and inference mode, are the identity
 * (every mask element true).
 */
final class TrainingDropout {
    private TrainingDropout() {}

    private static OnnxFormatException bad(OnnxNode n, String msg) { return new OnnxFormatException(n.describe() + ": " + msg); }

    /**
     * The drop ratio of Dropout node {@code n} when it zeroes elements (training_mode true, ratio &gt; 0), else 0.
     * {@code constant.apply(k)} is input k's value, or null when it is absent or computed; a computed
     * training_mode, or a computed ratio in training mode, is refused naming the node, as is a ratio outside [0, 1).
     */
    static double ratio(OnnxNode n, IntFunction<CVal> constant) {
        if (!n.hasInput(2)) return 0;
        CVal mode = constant.apply(2);
        if (mode == null) throw bad(n, "input 2 'training_mode' ('" + n.input(2) + "') is computed; it must be a constant");
        if (mode.numel() != 1) throw bad(n, "input 2 'training_mode' has shape " + java.util.Arrays.toString(mode.shape()) + ", expected one value");
        if (mode.data()[0] == 0) return 0;
        double r = 0.5;
        if (n.hasInput(1)) {
            CVal c = constant.apply(1);
            if (c == null) throw bad(n, "input 1 'ratio' ('" + n.input(1) + "') is computed; training-mode dropout needs a constant ratio");
            if (c.numel() != 1) throw bad(n, "input 1 'ratio' has shape " + java.util.Arrays.toString(c.shape()) + ", expected one value");
            r = c.data()[0];
        }
        if (!(r >= 0 && r < 1)) throw bad(n, "input 1 'ratio' = " + r + " must be in [0, 1) in training mode");
        return r;
    }

    /** The seed the next draw of node {@code n} starts from: its {@code seed} attribute, or a fresh one. */
    static int seed(OnnxNode n) {
        Long s = n.args(OpArgs.Dropout.class).seed();
        return s != null ? (int) (long) s : ThreadLocalRandom.current().nextInt();
    }

    /** The keep mask (1 or 0 per element, row-major) of {@code count} elements for ratio {@code r}, drawn from {@code seed}. */
    static double[] keep(int seed, double r, int count) {
        Mt19937 g = new Mt19937(seed);
        double[] m = new double[count];
        for (int i = 0; i < count; i++) m[i] = g.nextDouble() >= r ? 1 : 0;
        return m;
    }

    /** Plans node {@code n} in training mode with ratio {@code r} (from {@link #ratio}): one step writing y and the mask. */
    static void plan(Planner p, OnnxNode n, double r) {
        int x = p.in(n, 0);
        Specialization.Value xv = p.val(x);
        if (!xv.dtype.isFloatingPoint()) throw bad(n, "input '" + n.input(0) + "' is " + xv.dtype + ", expected a floating-point type");
        int y = p.dynamic(n.outputs().get(0), xv.shape, xv.dtype);
        boolean withMask = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty();
        int m = withMask ? p.dynamic(n.outputs().get(1), xv.shape, DType.U8) : -1;
        Long seed = n.args(OpArgs.Dropout.class).seed();
        p.step(n.name(), new int[] {x}, withMask ? new int[] {y, m} : new int[] {y},
                v -> new Step(v[x], v[y], withMask ? v[m] : null, r, seed));
        p.algorithm(seed == null ? "mt19937, fresh seed per run" : "mt19937, seed " + seed);
    }

    /** The run-time kernel: draws u per element, writes y = (u ≥ r) · x · 1/(1 − r) and the mask; allocates nothing. */
    static final class Step implements Runnable {
        private final Tensor x, y, mask;
        private final double ratio, scale;
        private final Long seed;
        private final Mt19937 rng = new Mt19937(0);

        Step(Tensor x, Tensor y, Tensor mask, double ratio, Long seed) {
            if (!x.isContiguous() || !y.isContiguous() || (mask != null && !mask.isContiguous())) {
                throw new IllegalArgumentException("training-mode dropout needs contiguous tensors");
            }
            this.x = x;
            this.y = y;
            this.mask = mask;
            this.ratio = ratio;
            this.scale = 1 / (1 - ratio);
            this.seed = seed;
        }

        @Override
        public void run() {
            rng.seed(seed != null ? (int) (long) seed : ThreadLocalRandom.current().nextInt());
            long n = x.numel(), xo = x.offset(), yo = y.offset(), mo = mask == null ? 0 : mask.offset();
            for (long i = 0; i < n; i++) {
                double k = rng.nextDouble() >= ratio ? 1 : 0;
                y.writeAt(yo + i, k * x.readAt(xo + i) * scale); // as numpy's mask * x * scale: a dropped NaN stays NaN
                if (mask != null) mask.writeAt(mo + i, k);
            }
        }
    }
}
