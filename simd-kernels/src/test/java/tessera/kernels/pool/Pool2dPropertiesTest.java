package tessera.kernels.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Properties of {@link Pool2d}: the float32 Vector API path equals the float64 reference (forward values, indices,
 * backward), AVG/L2 backward equals central finite differences of the reference, MAX backward routes dy to the
 * window maximum, unpooling puts maxima back where they were, and global pools equal plain loops.
 * The module's tests run twice (512-bit and, with -XX:MaxVectorSize=32, 256-bit species).
 */
class Pool2dPropertiesTest {
    private static final Gen<List<Integer>> GENES = lists().of(integers().between(0, 999)).ofSize(PoolCase.GENES);
    private static final Gen<Integer> TYPES = integers().between(0, 2);

    private static PoolType type(int t) { return PoolType.values()[t]; }

    /** Float32 tolerance for sums of at most 16 window terms of magnitude <= |ref| scale. */
    private static void assertClose(double expected, double actual, double tol, String what) {
        if (Math.abs(expected - actual) > tol * (1 + Math.abs(expected))) {
            throw new AssertionError(what + ": expected " + expected + " but got " + actual + " (tolerance " + tol + ")");
        }
    }

    @Test
    void fastForwardEqualsReference() {
        qt().withExamples(300).forAll(GENES, TYPES).checkAssert((g, t) -> {
            PoolCase pc = PoolCase.decode(g, type(t));
            PoolSpec s = pc.spec();
            int P = pc.outH(), Q = pc.outW();
            float[] xv = s.type() == PoolType.MAX ? pc.distinctValues() : pc.uniformValues(1);
            try (Tensor x = Tensor.of(xv, pc.n(), pc.c(), pc.h(), pc.w()); Tensor x64 = x.to(DType.F64);
                 Tensor y = Tensor.zeros(DType.F32, pc.n(), pc.c(), P, Q); Tensor y64 = Tensor.zeros(DType.F64, pc.n(), pc.c(), P, Q);
                 Tensor i32 = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q); Tensor i64 = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q);
                 Tensor yNoIdx = Tensor.zeros(DType.F32, pc.n(), pc.c(), P, Q)) {
                boolean max = s.type() == PoolType.MAX;
                y.fill(Float.NaN);
                i32.fill(-7);
                Pool2d.forward(s, x, y, max ? i32 : null);
                Pool2d.forward(s, x64, y64, max ? i64 : null);
                double[] a = y.toDoubleArray(), e = y64.toDoubleArray();
                for (int k = 0; k < e.length; k++) assertClose(e[k], a[k], max ? 0 : 2e-6, s + " " + pc + " y[" + k + "]");
                if (max) {
                    assertEquals(List.of(box(i64.toDoubleArray())), List.of(box(i32.toDoubleArray())), "indices " + s + " " + pc);
                    Pool2d.forward(s, x, yNoIdx, null); // the value-only kernels (incl. the 3x3/2 and 2x2/2 ones)
                    double[] b = yNoIdx.toDoubleArray();
                    for (int k = 0; k < e.length; k++) assertClose(e[k], b[k], 0, s + " " + pc + " value-only y[" + k + "]");
                }
            }
        });
    }

    @Test
    void fastBackwardEqualsReference() {
        qt().withExamples(200).forAll(GENES, TYPES).checkAssert((g, t) -> {
            PoolCase pc = PoolCase.decode(g, type(t));
            PoolSpec s = pc.spec();
            int P = pc.outH(), Q = pc.outW();
            float[] xv = s.type() == PoolType.MAX ? pc.distinctValues() : pc.uniformValues(1);
            try (Tensor x = Tensor.of(xv, pc.n(), pc.c(), pc.h(), pc.w()); Tensor x64 = x.to(DType.F64);
                 Tensor dy = Tensor.of(pc.outputValues(2), pc.n(), pc.c(), P, Q); Tensor dy64 = dy.to(DType.F64);
                 Tensor y = Tensor.zeros(DType.F32, pc.n(), pc.c(), P, Q); Tensor y64 = Tensor.zeros(DType.F64, pc.n(), pc.c(), P, Q);
                 Tensor idx = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q);
                 Tensor dx = Tensor.zeros(DType.F32, pc.n(), pc.c(), pc.h(), pc.w());
                 Tensor dxRecomputed = Tensor.zeros(DType.F32, pc.n(), pc.c(), pc.h(), pc.w());
                 Tensor dx64 = Tensor.zeros(DType.F64, pc.n(), pc.c(), pc.h(), pc.w())) {
                boolean max = s.type() == PoolType.MAX;
                Pool2d.forward(s, x, y, max ? idx : null);
                Pool2d.forward(s, x64, y64, null);
                dx.fill(123); // overwritten, not accumulated
                Pool2d.backward(s, x, y, max ? idx : null, dy, dx);
                Pool2d.backward(s, x64, y64, null, dy64, dx64);
                // without y (L2 recomputes it) and without indices (MAX recomputes the argmax)
                Pool2d.backward(s, x, null, null, dy, dxRecomputed);
                double[] e = dx64.toDoubleArray(), a = dx.toDoubleArray(), b = dxRecomputed.toDoubleArray();
                int overlap = s.kernelH() * s.kernelW();
                for (int k = 0; k < e.length; k++) {
                    assertClose(e[k], a[k], 1e-5 * overlap, s + " " + pc + " dx[" + k + "]");
                    assertClose(e[k], b[k], 1e-5 * overlap, s + " " + pc + " dx (recomputed) [" + k + "]");
                }
            }
        });
    }

    @Test
    void avgAndL2BackwardMatchCentralDifferencesOfTheReference() {
        qt().withExamples(60).forAll(GENES, integers().between(1, 2)).checkAssert((g0, t) -> {
            List<Integer> g = new java.util.ArrayList<>(g0);
            g.set(15, g.get(15) % 6); // small widths keep the full Jacobian cheap
            PoolCase pc = PoolCase.decode(g, type(t));
            PoolSpec s = pc.spec();
            int P = pc.outH(), Q = pc.outW();
            double[] xv = toDouble(pc.uniformValues(3));
            double[] v = toDouble(pc.outputValues(4));
            try (Tensor x = Tensor.of(xv, pc.n(), pc.c(), pc.h(), pc.w()); Tensor dy = Tensor.of(v, pc.n(), pc.c(), P, Q);
                 Tensor y = Tensor.zeros(DType.F64, pc.n(), pc.c(), P, Q);
                 Tensor dx = Tensor.zeros(DType.F64, pc.n(), pc.c(), pc.h(), pc.w())) {
                Pool2d.forward(s, x, y, null);
                Pool2d.backward(s, x, y, null, dy, dx);
                double[] analytic = dx.toDoubleArray();
                double eps = 1e-6;
                for (int k = 0; k < xv.length; k++) {
                    double[] plus = xv.clone(), minus = xv.clone();
                    plus[k] += eps;
                    minus[k] -= eps;
                    double numeric = (projected(s, plus, v, pc) - projected(s, minus, v, pc)) / (2 * eps);
                    if (Math.abs(analytic[k] - numeric) > 1e-5 + 1e-3 * Math.abs(numeric)) {
                        throw new AssertionError(s + " " + pc + " dx[" + k + "]: analytic " + analytic[k] + ", numeric " + numeric);
                    }
                }
            }
        });
    }

    /** L = ⟨v, pool(x)⟩ on the float64 reference. */
    private static double projected(PoolSpec s, double[] xv, double[] v, PoolCase pc) {
        try (Tensor x = Tensor.of(xv, pc.n(), pc.c(), pc.h(), pc.w()); Tensor y = Tensor.zeros(DType.F64, pc.n(), pc.c(), pc.outH(), pc.outW())) {
            Pool2d.forward(s, x, y, null);
            double[] yv = y.toDoubleArray();
            double l = 0;
            for (int i = 0; i < yv.length; i++) l += v[i] * yv[i];
            return l;
        }
    }

    @Test
    void maxBackwardRoutesGradientToTheWindowMaximum() {
        qt().withExamples(150).forAll(GENES, integers().between(0, 1)).checkAssert((g, dt) -> {
            PoolCase pc = PoolCase.decode(g, PoolType.MAX);
            PoolSpec s = pc.spec();
            DType type = dt == 0 ? DType.F32 : DType.F64;
            int P = pc.outH(), Q = pc.outW(), H = pc.h(), W = pc.w();
            float[] xv = pc.distinctValues();
            float[] dyv = pc.outputValues(5);
            // expected: brute force over each window, written independently of the kernels
            double[] expected = new double[xv.length];
            for (int plane = 0; plane < pc.n() * pc.c(); plane++) {
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        int bestAt = -1;
                        for (int r = 0; r < s.kernelH(); r++) {
                            for (int c = 0; c < s.kernelW(); c++) {
                                int h = p * s.strideH() - s.padTop() + r * s.dilationH();
                                int w = q * s.strideW() - s.padLeft() + c * s.dilationW();
                                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                                int at = plane * H * W + h * W + w;
                                if (bestAt < 0 || xv[at] > xv[bestAt]) bestAt = at;
                            }
                        }
                        expected[bestAt] += dyv[(plane * P + p) * Q + q];
                    }
                }
            }
            try (Tensor x32 = Tensor.of(xv, pc.n(), pc.c(), H, W); Tensor x = x32.to(type);
                 Tensor dy32 = Tensor.of(dyv, pc.n(), pc.c(), P, Q); Tensor dy = dy32.to(type);
                 Tensor y = Tensor.zeros(type, pc.n(), pc.c(), P, Q); Tensor idx = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q);
                 Tensor dx = Tensor.zeros(type, pc.n(), pc.c(), H, W)) {
                Pool2d.forward(s, x, y, idx);
                Pool2d.backward(s, x, y, idx, dy, dx);
                double[] a = dx.toDoubleArray();
                for (int k = 0; k < a.length; k++) assertClose(expected[k], a[k], 1e-5 * s.kernelH() * s.kernelW(), s + " " + pc + " dx[" + k + "]");
            }
        });
    }

    @Test
    void unpoolPlacesMaximaAtTheirPositions() {
        qt().withExamples(150).forAll(GENES, integers().between(0, 1)).checkAssert((g, dt) -> {
            PoolCase pc = PoolCase.decode(g, PoolType.MAX);
            PoolSpec s = pc.spec();
            DType type = dt == 0 ? DType.F32 : DType.F64;
            int P = pc.outH(), Q = pc.outW(), H = pc.h(), W = pc.w();
            float[] xv = pc.distinctValues();
            for (int i = 0; i < xv.length; i++) xv[i] = xv[i] + xv.length; // positive: zeros in the unpooled tensor mean "empty"
            try (Tensor x32 = Tensor.of(xv, pc.n(), pc.c(), H, W); Tensor x = x32.to(type);
                 Tensor y = Tensor.zeros(type, pc.n(), pc.c(), P, Q); Tensor idx = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q);
                 Tensor u = Tensor.zeros(type, pc.n(), pc.c(), H, W); Tensor back = Tensor.zeros(type, pc.n(), pc.c(), P, Q)) {
                u.fill(-5); // must be overwritten with zeros where nothing lands
                Pool2d.forward(s, x, y, idx);
                Pool2d.maxUnpool(y, idx, u);
                double[] yv = y.toDoubleArray(), iv = idx.toDoubleArray(), uv = u.toDoubleArray();
                boolean[] hit = new boolean[uv.length];
                for (int k = 0; k < yv.length; k++) {
                    int plane = k / (P * Q);
                    int at = plane * H * W + (int) iv[k];
                    assertTrue(iv[k] >= 0 && iv[k] < H * W, "index in plane");
                    assertEquals(xv[at], yv[k], 0.0, "pooled value is x at its index");
                    assertEquals(yv[k], uv[at], 0.0, "unpooled value at the index");
                    hit[at] = true;
                }
                for (int e = 0; e < uv.length; e++) if (!hit[e]) assertEquals(0.0, uv[e], 0.0, "untouched positions are zero");
                // gradient of unpooling gathers back: dx = u[idx] = y
                Pool2d.maxUnpoolBackward(idx, u, back);
                double[] bv = back.toDoubleArray();
                for (int k = 0; k < yv.length; k++) assertEquals(yv[k], bv[k], 0.0, "unpool backward gathers");
            }
        });
    }

    @Test
    void globalPoolsEqualPlainLoopsAndReference() {
        qt().withExamples(100).forAll(integers().between(1, 3), integers().between(1, 4), integers().between(1, 40), integers().between(1, 45))
                .checkAssert((n, c, h, w) -> {
                    PoolCase pc = new PoolCase(PoolSpec.of(PoolType.MAX, 1, 1, 0), n, c, h, w, 7L * h + w);
                    float[] xv = pc.distinctValues();
                    int HW = h * w;
                    for (DType type : new DType[] {DType.F32, DType.F64}) {
                        try (Tensor x32 = Tensor.of(xv, n, c, h, w); Tensor x = x32.to(type);
                             Tensor avg = Tensor.zeros(type, n, c, 1, 1); Tensor mx = Tensor.zeros(type, n, c, 1, 1);
                             Tensor idx = Tensor.zeros(DType.I64, n, c, 1, 1); Tensor dy = Tensor.zeros(type, n, c, 1, 1);
                             Tensor dxAvg = Tensor.zeros(type, n, c, h, w); Tensor dxMax = Tensor.zeros(type, n, c, h, w)) {
                            for (int i = 0; i < n * c; i++) dy.set(i + 0.5, i / c, i % c, 0, 0);
                            Pool2d.globalAvg(x, avg);
                            Pool2d.globalMax(x, mx, idx);
                            Pool2d.globalAvgBackward(dy, dxAvg);
                            Pool2d.globalMaxBackward(idx, dy, dxMax);
                            double[] ga = dxAvg.toDoubleArray(), gm = dxMax.toDoubleArray();
                            for (int plane = 0; plane < n * c; plane++) {
                                double sum = 0, best = Double.NEGATIVE_INFINITY;
                                int bestAt = -1;
                                for (int e = 0; e < HW; e++) {
                                    double v = xv[plane * HW + e];
                                    sum += v;
                                    if (v > best) { best = v; bestAt = e; }
                                }
                                int ni = plane / c, ci = plane % c;
                                assertClose(sum / HW, avg.getDouble(ni, ci, 0, 0), type == DType.F32 ? 1e-5 : 1e-12, "global avg " + type);
                                assertEquals(best, mx.getDouble(ni, ci, 0, 0), 0.0, "global max " + type);
                                assertEquals(bestAt, (long) idx.getDouble(ni, ci, 0, 0), "global argmax " + type);
                                for (int e = 0; e < HW; e++) {
                                    assertClose((plane + 0.5) / HW, ga[plane * HW + e], 1e-6, "global avg backward");
                                    assertEquals(e == bestAt ? plane + 0.5 : 0.0, gm[plane * HW + e], 0.0, "global max backward");
                                }
                            }
                        }
                    }
                });
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int before = tessera.kernels.ComputePool.threads();
        PoolSpec s = PoolSpec.of(PoolType.MAX, 3, 2, 1);
        Random r = new Random(3);
        float[] xv = new float[2 * 5 * 23 * 37];
        for (int i = 0; i < xv.length; i++) xv[i] = r.nextFloat();
        try (Tensor x = Tensor.of(xv, 2, 5, 23, 37); Tensor y1 = Tensor.zeros(2, 5, 12, 19); Tensor y2 = Tensor.zeros(2, 5, 12, 19);
             Tensor i1 = Tensor.zeros(DType.I64, 2, 5, 12, 19); Tensor i2 = Tensor.zeros(DType.I64, 2, 5, 12, 19)) {
            tessera.kernels.ComputePool.setThreads(1);
            Pool2d.forward(s, x, y1, i1);
            tessera.kernels.ComputePool.setThreads(2);
            Pool2d.forward(s, x, y2, i2);
            assertEquals(List.of(box(y1.toDoubleArray())), List.of(box(y2.toDoubleArray())));
            assertEquals(List.of(box(i1.toDoubleArray())), List.of(box(i2.toDoubleArray())));
        } finally {
            tessera.kernels.ComputePool.setThreads(before);
        }
    }

    @Test
    void nanPropagatesThroughMaxLikePyTorch() {
        // a NaN anywhere in a window wins (PyTorch: val > max || isnan(val)); the last NaN's index is reported
        float[] xv = new float[3 * 40];
        for (int i = 0; i < xv.length; i++) xv[i] = i;
        xv[40 + 21] = Float.NaN;
        xv[40 + 22] = Float.NaN;
        PoolSpec s = PoolSpec.of(PoolType.MAX, 3, 1, 1);
        for (DType type : new DType[] {DType.F32, DType.F64}) {
            try (Tensor x32 = Tensor.of(xv, 1, 1, 3, 40); Tensor x = x32.to(type); Tensor y = Tensor.zeros(type, 1, 1, 3, 40);
                 Tensor idx = Tensor.zeros(DType.I64, 1, 1, 3, 40); Tensor gy = Tensor.zeros(type, 1, 1, 1, 1);
                 Tensor gi = Tensor.zeros(DType.I64, 1, 1, 1, 1)) {
                Pool2d.forward(s, x, y, idx);
                for (int q = 0; q < 40; q++) {
                    boolean nanWindow = q >= 20 && q <= 23;
                    assertEquals(nanWindow, Double.isNaN(y.getDouble(0, 0, 1, q)), type + " NaN at q=" + q);
                    if (nanWindow) assertEquals(q == 20 ? 40 + 21 : 40 + 22, (long) idx.getDouble(0, 0, 1, q), type + " NaN index at q=" + q);
                }
                Pool2d.globalMax(x, gy, gi);
                assertTrue(Double.isNaN(gy.getDouble(0, 0, 0, 0)), type + " global max NaN");
                assertEquals(62, (long) gi.getDouble(0, 0, 0, 0), type + " global max: last NaN index");
            }
        }
    }

    @Test
    void tiesReportTheFirstTapLikePyTorch() {
        // PyTorch keeps the first of equal values (strict '>' in row-major tap order)
        qt().withExamples(100).forAll(GENES, integers().between(0, 1)).checkAssert((g, dt) -> {
            PoolCase pc = PoolCase.decode(g, PoolType.MAX);
            PoolSpec s = pc.spec();
            DType type = dt == 0 ? DType.F32 : DType.F64;
            int P = pc.outH(), Q = pc.outW(), H = pc.h(), W = pc.w();
            try (Tensor x = Tensor.zeros(type, pc.n(), pc.c(), H, W); Tensor y = Tensor.zeros(type, pc.n(), pc.c(), P, Q);
                 Tensor idx = Tensor.zeros(DType.I64, pc.n(), pc.c(), P, Q)) {
                x.fill(2.5);
                Pool2d.forward(s, x, y, idx);
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        int h = p * s.strideH() - s.padTop(), w = q * s.strideW() - s.padLeft();
                        while (h < 0) h += s.dilationH();
                        while (w < 0) w += s.dilationW();
                        assertEquals((long) h * W + w, (long) idx.getDouble(pc.n() - 1, pc.c() - 1, p, q), s + " " + pc + " at " + p + "," + q);
                    }
                }
            }
        });
    }

    private static Double[] box(double[] a) {
        Double[] b = new Double[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
