package tessera.kernels.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import tessera.kernels.conv.Conv2d;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvSpec;
import tessera.kernels.pool.Pool2d;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Properties of the 3-D kernels over random geometries (batch, channels, groups, per-axis size, kernel, stride,
 * padding, dilation, output padding): the float32 vol2col + GEMM convolutions and the direct-loop pooling equal the
 * float64 references; the references themselves agree with the 2-D kernels on a unit depth and the transposed
 * convolution is the adjoint of the convolution ({@code <conv(x), y> = <x, convT(y)>}).
 */
class Volume3dPropertiesTest {
    private static final Gen<List<Integer>> GENES = lists().of(integers().between(0, 999)).ofSize(24);

    /** Reads genes in order as small integers. */
    private static final class Genes {
        private final List<Integer> g;
        private int i;

        Genes(List<Integer> g) { this.g = g; }

        int next(int lo, int hi) { return lo + g.get(i++ % g.size()) % (hi - lo + 1); }

        int[] three(int lo, int hi) { return new int[] {next(lo, hi), next(lo, hi), next(lo, hi)}; }
    }

    /** A random convolution geometry whose padded input holds the dilated kernel. */
    private static Conv3dSpec convSpec(Genes r, boolean unitDepth) {
        int groups = r.next(1, 3);
        int[] k = r.three(1, 3), st = r.three(1, 3), dl = r.three(1, 2), in = new int[3], pads = new int[6];
        for (int a = 0; a < 3; a++) {
            pads[a] = r.next(0, k[a]);
            pads[a + 3] = r.next(0, k[a]);
            int span = dl[a] * (k[a] - 1) + 1;
            in[a] = Math.max(1, span - pads[a] - pads[a + 3]) + r.next(0, 5);
        }
        if (unitDepth) {
            k[0] = 1;
            in[0] = 1;
            st[0] = 1;
            dl[0] = 1;
            pads[0] = pads[3] = 0;
        }
        return new Conv3dSpec(r.next(1, 2), groups * r.next(1, 2), groups * r.next(1, 3), groups, in, k, st, pads, dl);
    }

    private static Tensor random(Random rnd, DType d, int... shape) {
        Tensor t = Tensor.zeros(d, shape);
        for (long i = 0; i < t.numel(); i++) t.writeAt(t.offset() + i, rnd.nextDouble() * 2 - 1);
        return t;
    }

    /**
     * Values in ±[0.1, 1): L2 pooling is not differentiable where a window's norm is 0, and a window holding a single
     * element (the rest padding) has norm |x|, whose kink a finite-difference step of 1e-6 crossed for an x of
     * 3.6e-7 (a clean-clone run, L2 kernel [2, 2, 1], dilation 2, padding 1); here every window's norm is at least 0.1, as
     * the 2-D pooling properties keep their L2 inputs away from 0 ({@code PoolCase}).
     */
    private static Tensor awayFromZero(Random rnd, DType d, int... shape) {
        Tensor t = Tensor.zeros(d, shape);
        for (long i = 0; i < t.numel(); i++) {
            double m = 0.1 + 0.9 * rnd.nextDouble();
            t.writeAt(t.offset() + i, rnd.nextBoolean() ? m : -m);
        }
        return t;
    }

    /**
     * Distinct values in [-1, 1), at least 2 / numel apart, shuffled: max pooling is differentiable only where each
     * window's maximum is unique, and finite differences of step 1e-6 cross a near-tie of uniform random values
     * (it happened about once in a few hundred runs); here no two values are closer than the step could reach.
     */
    private static Tensor distinct(Random rnd, DType d, int... shape) {
        Tensor t = Tensor.zeros(d, shape);
        int n = Math.toIntExact(t.numel());
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 2.0 * i / n - 1;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            double tmp = v[i]; v[i] = v[j]; v[j] = tmp;
        }
        for (int i = 0; i < n; i++) t.writeAt(t.offset() + i, v[i]);
        return t;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])))) {
                throw new AssertionError(what + " [" + i + "]: expected " + e[i] + " but got " + a[i] + " (tolerance " + tol + ")");
            }
        }
    }

    private static int[] shape(int a, int b, int[] s) { return new int[] {a, b, s[0], s[1], s[2]}; }

    @Test
    void convFloat32EqualsReference() {
        qt().withExamples(150).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            Conv3dSpec s = convSpec(r, false);
            Random rnd = new Random(g.hashCode());
            boolean withBias = r.next(0, 1) == 1;
            try (Tensor x = random(rnd, DType.F32, shape(s.batch(), s.inChannels(), s.in()));
                 Tensor w = random(rnd, DType.F32, shape(s.outChannels(), s.inChannels() / s.groups(), s.kernel()));
                 Tensor b = random(rnd, DType.F32, s.outChannels());
                 Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor b64 = b.to(DType.F64);
                 Tensor y = Tensor.zeros(DType.F32, shape(s.batch(), s.outChannels(), s.out()));
                 Tensor y64 = Tensor.zeros(DType.F64, shape(s.batch(), s.outChannels(), s.out()))) {
                y.fill(Float.NaN); // overwritten
                Conv3d.forward(s, x, w, withBias ? b : null, y);
                Conv3d.forward(s, x64, w64, withBias ? b64 : null, y64);
                assertClose(y64, y, 1e-5, s.toString());
            }
        });
    }

    @Test
    void transposedFloat32EqualsReference() {
        qt().withExamples(150).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            int groups = r.next(1, 3);
            int[] k = r.three(1, 3), st = r.three(1, 3), dl = r.three(1, 2), in = r.three(1, 4), op = new int[3], pads = new int[6];
            for (int a = 0; a < 3; a++) {
                op[a] = r.next(0, st[a] - 1);
                int full = st[a] * (in[a] - 1) + op[a] + dl[a] * (k[a] - 1) + 1;
                pads[a] = Math.min(r.next(0, 2), (full - 1) / 2);
                pads[a + 3] = Math.min(r.next(0, 2), (full - 1) / 2);
            }
            ConvTranspose3dSpec s = new ConvTranspose3dSpec(r.next(1, 2), groups * r.next(1, 2), groups * r.next(1, 3), groups, in, k, st, pads, op, dl);
            Random rnd = new Random(g.hashCode());
            boolean withBias = r.next(0, 1) == 1;
            try (Tensor x = random(rnd, DType.F32, shape(s.batch(), s.inChannels(), s.in()));
                 Tensor w = random(rnd, DType.F32, shape(s.inChannels(), s.outChannels() / s.groups(), s.kernel()));
                 Tensor b = random(rnd, DType.F32, s.outChannels());
                 Tensor x64 = x.to(DType.F64); Tensor w64 = w.to(DType.F64); Tensor b64 = b.to(DType.F64);
                 Tensor y = Tensor.zeros(DType.F32, shape(s.batch(), s.outChannels(), s.out()));
                 Tensor y64 = Tensor.zeros(DType.F64, shape(s.batch(), s.outChannels(), s.out()))) {
                y.fill(Float.NaN); // overwritten
                Conv3d.transposeForward(s, x, w, withBias ? b : null, y);
                Conv3d.transposeForward(s, x64, w64, withBias ? b64 : null, y64);
                assertClose(y64, y, 1e-5, s.toString());
            }
        });
    }

    /** <conv(x, w), y> = <x, convT(y, w)>: the two references are adjoint (same weights, geometry and groups). */
    @Test
    void transposedReferenceIsTheAdjointOfConvolution() {
        qt().withExamples(100).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            Conv3dSpec c = convSpec(r, false);
            int[] out = c.out(), in = c.in(), st = c.strides(), op = new int[3];
            for (int a = 0; a < 3; a++) {
                int plain = st[a] * (out[a] - 1) + c.dilations()[a] * (c.kernel()[a] - 1) + 1 - c.pads()[a] - c.pads()[a + 3];
                op[a] = in[a] - plain; // the rows the strided convolution never reads
            }
            ConvTranspose3dSpec t = new ConvTranspose3dSpec(c.batch(), c.outChannels(), c.inChannels(), c.groups(), out, c.kernel(), st,
                    c.pads(), op, c.dilations());
            Random rnd = new Random(g.hashCode());
            try (Tensor x = random(rnd, DType.F64, shape(c.batch(), c.inChannels(), in));
                 Tensor w = random(rnd, DType.F64, shape(c.outChannels(), c.inChannels() / c.groups(), c.kernel()));
                 Tensor y = random(rnd, DType.F64, shape(c.batch(), c.outChannels(), out));
                 Tensor cx = Tensor.zeros(DType.F64, shape(c.batch(), c.outChannels(), out));
                 Tensor ty = Tensor.zeros(DType.F64, shape(c.batch(), c.inChannels(), in))) {
                assertEquals(Arrays.toString(in), Arrays.toString(t.out()), "transposed output size");
                Conv3d.forward(c, x, w, null, cx);
                Conv3d.transposeForward(t, y, w, null, ty);
                double lhs = dot(cx, y), rhs = dot(x, ty);
                assertEquals(lhs, rhs, 1e-9 * (1 + Math.abs(lhs)), c.toString());
            }
        });
    }

    private static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    /** On a unit depth (kD = 1, D = 1) the 3-D convolution is the 2-D one. */
    @Test
    void unitDepthConvolutionEqualsConv2d() {
        qt().withExamples(100).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            Conv3dSpec s = convSpec(r, true);
            int[] in = s.in(), k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations(), out = s.out();
            ConvSpec s2 = new ConvSpec(s.batch(), s.inChannels(), in[1], in[2], s.outChannels(), k[1], k[2], st[1], st[2], p[1], p[2], p[4], p[5],
                    dl[1], dl[2], s.groups());
            Random rnd = new Random(g.hashCode());
            try (Tensor x = random(rnd, DType.F64, shape(s.batch(), s.inChannels(), in));
                 Tensor w = random(rnd, DType.F64, shape(s.outChannels(), s.inChannels() / s.groups(), k));
                 Tensor b = random(rnd, DType.F64, s.outChannels());
                 Tensor y = Tensor.zeros(DType.F64, shape(s.batch(), s.outChannels(), out));
                 Tensor y2 = Tensor.zeros(DType.F64, s.batch(), s.outChannels(), out[1], out[2])) {
                Conv3d.forward(s, x, w, b, y);
                Conv2d.forward(s2, ConvAlgorithm.AUTO, x.reshape(s.batch(), s.inChannels(), in[1], in[2]), w.reshape(s.outChannels(),
                        s.inChannels() / s.groups(), k[1], k[2]), b, null, y2);
                assertClose(y2, y.reshape(y2.shape()), 1e-12, s.toString());
            }
        });
    }

    private static Pool3dSpec poolSpec(Genes r, PoolType type, int[] in, boolean unitDepth, boolean halfKernelPads) {
        int[] k = r.three(1, 3), st = r.three(1, 3), dl = r.three(1, 2), pads = new int[6];
        for (int a = 0; a < 3; a++) {
            int span = dl[a] * (k[a] - 1) + 1;
            int maxPad = halfKernelPads ? span / 2 : span - 1; // a wider pad leaves a window wholly in the padding
            pads[a] = r.next(0, maxPad);
            pads[a + 3] = r.next(0, maxPad);
            in[a] = Math.max(1, span - pads[a] - pads[a + 3]) + r.next(0, 4);
        }
        if (unitDepth) {
            k[0] = st[0] = dl[0] = in[0] = 1;
            pads[0] = pads[3] = 0;
        }
        return new Pool3dSpec(type, k, st, pads, dl, r.next(0, 1) == 1, r.next(0, 1) == 1);
    }

    @Test
    void poolFloat32EqualsReference() {
        qt().withExamples(300).forAll(GENES, integers().between(0, 2)).checkAssert((g, t) -> {
            Genes r = new Genes(g);
            PoolType type = PoolType.values()[t];
            int[] in = new int[3];
            Pool3dSpec s = poolSpec(r, type, in, false, false);
            try {
                s.validate(in);
            } catch (IllegalArgumentException e) {
                return; // a window wholly in the padding (ceil mode): refused, covered below
            }
            int n = r.next(1, 2), c = r.next(1, 3);
            int[] out = s.out(in);
            Random rnd = new Random(g.hashCode());
            boolean max = type == PoolType.MAX;
            try (Tensor x = random(rnd, DType.F32, shape(n, c, in)); Tensor x64 = x.to(DType.F64);
                 Tensor y = Tensor.zeros(DType.F32, shape(n, c, out)); Tensor y64 = Tensor.zeros(DType.F64, shape(n, c, out));
                 Tensor i32 = Tensor.zeros(DType.I64, shape(n, c, out)); Tensor i64 = Tensor.zeros(DType.I64, shape(n, c, out))) {
                y.fill(Float.NaN);
                Pool3d.forward(s, x, y, max ? i32 : null);
                Pool3d.forward(s, x64, y64, max ? i64 : null);
                assertClose(y64, y, max ? 0 : 1e-6, s + " in " + Arrays.toString(in));
                if (max) {
                    assertEquals(Arrays.toString(i64.toDoubleArray()), Arrays.toString(i32.toDoubleArray()), "indices " + s);
                    double[] xv = x.toDoubleArray(), yv = y.toDoubleArray(), iv = i32.toDoubleArray();
                    long vol = (long) in[0] * in[1] * in[2], outVol = (long) out[0] * out[1] * out[2];
                    for (int o = 0; o < yv.length; o++) assertEquals(xv[(int) (o / outVol * vol + (long) iv[o])], yv[o], "y = x[index] at " + o);
                }
            }
        });
    }

    /** On a unit depth the 3-D pooling is the 2-D one (pads within half the kernel, which the 2-D kernel requires). */
    @Test
    void unitDepthPoolingEqualsPool2d() {
        qt().withExamples(200).forAll(GENES, integers().between(0, 2)).checkAssert((g, t) -> {
            Genes r = new Genes(g);
            PoolType type = PoolType.values()[t];
            int[] in = new int[3];
            Pool3dSpec s = poolSpec(r, type, in, true, true);
            int[] k = s.kernel(), st = s.strides(), p = s.pads(), dl = s.dilations();
            PoolSpec s2 = new PoolSpec(type, k[1], k[2], st[1], st[2], p[1], p[2], p[4], p[5], dl[1], dl[2], s.ceilMode(), s.countIncludePad());
            try {
                s2.validate(in[1], in[2]);
            } catch (IllegalArgumentException e) {
                assertThrows(IllegalArgumentException.class, () -> s.validate(in), "the 2-D spec refuses " + s2 + ", the 3-D one must too");
                return;
            }
            int[] out = s.out(in);
            Random rnd = new Random(g.hashCode());
            try (Tensor x = random(rnd, DType.F64, shape(2, 2, in)); Tensor y = Tensor.zeros(DType.F64, shape(2, 2, out));
                 Tensor y2 = Tensor.zeros(DType.F64, 2, 2, out[1], out[2])) {
                Pool3d.forward(s, x, y, null);
                Pool2d.forward(s2, x.reshape(2, 2, in[1], in[2]), y2, null);
                assertClose(y2, y.reshape(y2.shape()), 1e-12, s.toString());
            }
        });
    }

    /** A random transposed geometry (output padding below the stride, pads that leave an output). */
    private static ConvTranspose3dSpec transposedSpec(Genes r) {
        int groups = r.next(1, 3);
        int[] k = r.three(1, 3), st = r.three(1, 3), dl = r.three(1, 2), in = r.three(1, 4), op = new int[3], pads = new int[6];
        for (int a = 0; a < 3; a++) {
            op[a] = r.next(0, st[a] - 1);
            int full = st[a] * (in[a] - 1) + op[a] + dl[a] * (k[a] - 1) + 1;
            pads[a] = Math.min(r.next(0, 2), (full - 1) / 2);
            pads[a + 3] = Math.min(r.next(0, 2), (full - 1) / 2);
        }
        return new ConvTranspose3dSpec(r.next(1, 2), groups * r.next(1, 2), groups * r.next(1, 3), groups, in, k, st, pads, op, dl);
    }

    /** Float32 gradients equal the float64 references, for both convolutions. */
    @Test
    void backwardFloat32EqualsReference() {
        qt().withExamples(100).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            Conv3dSpec c = convSpec(r, false);
            ConvTranspose3dSpec t = transposedSpec(r);
            Random rnd = new Random(g.hashCode());
            try (Tensor x = random(rnd, DType.F32, shape(c.batch(), c.inChannels(), c.in()));
                 Tensor w = random(rnd, DType.F32, shape(c.outChannels(), c.inChannels() / c.groups(), c.kernel()));
                 Tensor dy = random(rnd, DType.F32, shape(c.batch(), c.outChannels(), c.out()));
                 Tensor tx = random(rnd, DType.F32, shape(t.batch(), t.inChannels(), t.in()));
                 Tensor tw = random(rnd, DType.F32, shape(t.inChannels(), t.outChannels() / t.groups(), t.kernel()));
                 Tensor tdy = random(rnd, DType.F32, shape(t.batch(), t.outChannels(), t.out()))) {
                Tensor[] f32 = grads(c, t, x, w, dy, tx, tw, tdy);
                Tensor[] f64 = grads(c, t, x.to(DType.F64), w.to(DType.F64), dy.to(DType.F64), tx.to(DType.F64), tw.to(DType.F64), tdy.to(DType.F64));
                String[] names = {"conv dx", "conv dw", "conv dbias", "transposed dx", "transposed dw", "transposed dbias"};
                for (int k = 0; k < names.length; k++) assertClose(f64[k], f32[k], 2e-5, names[k] + " " + c + " / " + t);
                for (Tensor z : f32) z.close();
                for (Tensor z : f64) z.close();
            }
        });
    }

    private static Tensor[] grads(Conv3dSpec c, ConvTranspose3dSpec t, Tensor x, Tensor w, Tensor dy, Tensor tx, Tensor tw, Tensor tdy) {
        DType d = x.dtype();
        Tensor dx = Tensor.zeros(d, x.shape()), dw = Tensor.zeros(d, w.shape()), db = Tensor.zeros(d, c.outChannels());
        Tensor tdx = Tensor.zeros(d, tx.shape()), tdw = Tensor.zeros(d, tw.shape()), tdb = Tensor.zeros(d, t.outChannels());
        for (Tensor z : new Tensor[] {dx, dw, db, tdx, tdw, tdb}) z.fill(Double.NaN); // overwritten
        Conv3dBackward.backwardData(c, dy, w, dx);
        Conv3dBackward.backwardWeights(c, x, dy, dw, db);
        Conv3dBackward.transposeBackwardData(t, tdy, tw, tdx);
        Conv3dBackward.transposeBackwardWeights(t, tx, tdy, tdw, tdb);
        return new Tensor[] {dx, dw, db, tdx, tdw, tdb};
    }

    /**
     * The float64 gradients are those of the forward references: both convolutions are bilinear, so
     * {@code <f(x, w), g> = <x, ∂x> = <w, ∂w>} exactly, and the bias gradient is the per-channel sum of g.
     */
    @Test
    void referenceGradientsAreTheForwardsAdjoints() {
        qt().withExamples(100).forAll(GENES).checkAssert(g -> {
            Genes r = new Genes(g);
            Conv3dSpec c = convSpec(r, false);
            ConvTranspose3dSpec t = transposedSpec(r);
            Random rnd = new Random(g.hashCode());
            try (Tensor x = random(rnd, DType.F64, shape(c.batch(), c.inChannels(), c.in()));
                 Tensor w = random(rnd, DType.F64, shape(c.outChannels(), c.inChannels() / c.groups(), c.kernel()));
                 Tensor dy = random(rnd, DType.F64, shape(c.batch(), c.outChannels(), c.out()));
                 Tensor y = Tensor.zeros(DType.F64, dy.shape());
                 Tensor tx = random(rnd, DType.F64, shape(t.batch(), t.inChannels(), t.in()));
                 Tensor tw = random(rnd, DType.F64, shape(t.inChannels(), t.outChannels() / t.groups(), t.kernel()));
                 Tensor tdy = random(rnd, DType.F64, shape(t.batch(), t.outChannels(), t.out()));
                 Tensor ty = Tensor.zeros(DType.F64, tdy.shape())) {
                Conv3d.forward(c, x, w, null, y);
                Conv3d.transposeForward(t, tx, tw, null, ty);
                Tensor[] gr = grads(c, t, x, w, dy, tx, tw, tdy);
                double conv = dot(y, dy), transposed = dot(ty, tdy), tol = 1e-9;
                assertEquals(conv, dot(x, gr[0]), tol * (1 + Math.abs(conv)), "<conv(x), g> = <x, dx> " + c);
                assertEquals(conv, dot(w, gr[1]), tol * (1 + Math.abs(conv)), "<conv(x), g> = <w, dw> " + c);
                assertEquals(transposed, dot(tx, gr[3]), tol * (1 + Math.abs(transposed)), "<convT(x), g> = <x, dx> " + t);
                assertEquals(transposed, dot(tw, gr[4]), tol * (1 + Math.abs(transposed)), "<convT(x), g> = <w, dw> " + t);
                assertClose(channelSums(dy), gr[2], 1e-12, "conv dbias");
                assertClose(channelSums(tdy), gr[5], 1e-12, "transposed dbias");
                for (Tensor z : gr) z.close();
            }
        });
    }

    private static Tensor channelSums(Tensor t) {
        int n = t.dim(0), c = t.dim(1);
        double[] v = t.toDoubleArray(), s = new double[c];
        int vol = v.length / (n * c);
        for (int i = 0; i < v.length; i++) s[i / vol % c] += v[i];
        return Tensor.of(s, c);
    }

    /** Pooling gradients equal central finite differences of the float64 forward along a random direction. */
    @Test
    void poolBackwardEqualsFiniteDifferences() {
        qt().withExamples(200).forAll(GENES, integers().between(0, 2)).checkAssert((g, t) -> {
            Genes r = new Genes(g);
            PoolType type = PoolType.values()[t];
            int[] in = new int[3];
            Pool3dSpec s = poolSpec(r, type, in, false, false);
            try {
                s.validate(in);
            } catch (IllegalArgumentException e) {
                return;
            }
            int[] out = s.out(in);
            Random rnd = new Random(g.hashCode());
            DType dt = r.next(0, 1) == 0 ? DType.F64 : DType.F32;
            try (Tensor x = type == PoolType.MAX ? distinct(rnd, DType.F64, shape(2, 2, in))
                    : type == PoolType.L2 ? awayFromZero(rnd, DType.F64, shape(2, 2, in)) : random(rnd, DType.F64, shape(2, 2, in));
                 Tensor v = random(rnd, DType.F64, shape(2, 2, in));
                 Tensor dy = random(rnd, DType.F64, shape(2, 2, out)); Tensor dx = Tensor.zeros(dt, shape(2, 2, in));
                 Tensor xp = Tensor.zeros(DType.F64, shape(2, 2, in)); Tensor xm = Tensor.zeros(DType.F64, shape(2, 2, in));
                 Tensor yp = Tensor.zeros(DType.F64, shape(2, 2, out)); Tensor ym = Tensor.zeros(DType.F64, shape(2, 2, out));
                 Tensor xt = x.to(dt); Tensor dyt = dy.to(dt)) {
                double eps = 1e-6;
                double[] xv = xt.toDoubleArray(), vv = v.toDoubleArray();
                for (int i = 0; i < xv.length; i++) {
                    xp.writeAt(xp.offset() + i, xv[i] + eps * vv[i]);
                    xm.writeAt(xm.offset() + i, xv[i] - eps * vv[i]);
                }
                dx.fill(Double.NaN); // overwritten
                Pool3d.backward(s, xt, dyt, dx);
                Pool3d.forward(s, xp, yp, null);
                Pool3d.forward(s, xm, ym, null);
                double numeric = (dot(yp, dyt.to(DType.F64)) - dot(ym, dyt.to(DType.F64))) / (2 * eps), analytic = dot(dx.to(DType.F64), v);
                double tol = dt == DType.F64 ? 1e-6 : 1e-4;
                assertEquals(numeric, analytic, tol * (1 + Math.abs(numeric)), dt + " " + s + " in " + Arrays.toString(in));
            }
        });
    }

    @Test
    void windowsWhollyInThePaddingAreRefused() {
        Pool3dSpec s = new Pool3dSpec(PoolType.MAX, new int[] {2, 2, 2}, new int[] {1, 1, 1}, new int[] {0, 0, 2, 0, 0, 0}, new int[] {1, 1, 1},
                false, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.validate(new int[] {3, 3, 3}));
        assertEquals(true, e.getMessage().contains("covers no element"), e.getMessage());
    }

    @Test
    void badShapesNameTheArgument() {
        Conv3dSpec s = new Conv3dSpec(1, 2, 2, 1, new int[] {3, 3, 3}, new int[] {2, 2, 2}, new int[] {1, 1, 1}, new int[6], new int[] {1, 1, 1});
        try (Tensor x = Tensor.zeros(DType.F32, 1, 2, 3, 3, 3); Tensor w = Tensor.zeros(DType.F32, 2, 2, 2, 2, 1);
             Tensor y = Tensor.zeros(DType.F32, 1, 2, 2, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Conv3d.forward(s, x, w, null, y));
            assertEquals("Conv3d.forward: w has shape [2, 2, 2, 2, 1], expected [2, 2, 2, 2, 2]", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Conv3dSpec(1, 3, 2, 2, new int[] {3, 3, 3}, new int[] {1, 1, 1},
                new int[] {1, 1, 1}, new int[6], new int[] {1, 1, 1}), "3 channels in 2 groups");
    }
}
