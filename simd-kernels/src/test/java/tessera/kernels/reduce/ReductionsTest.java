package tessera.kernels.reduce;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static tessera.kernels.eltwise.KernelChecks.assertClose;
import static tessera.kernels.eltwise.KernelChecks.uniform;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Sum/mean/max/argmax F32 vs the float64 reference. Tolerance for sums: 1e-5·Σ|x| + 1e-6 (float32 accumulation,
 * see the Reductions javadoc); max and argmax are exact.
 */
class ReductionsTest {

    private static int[] shape(SplittableRandom r) {
        int rank = 1 + r.nextInt(4);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(r.nextInt(4) == 0 ? 70 : 7);
        return s;
    }

    @Test
    void sumMeanMaxMatchReference() {
        qt().withExamples(300).forAll(integers().between(0, 2), longs().between(1, 10_000_000)).checkAssert((kind, seed) -> {
            SplittableRandom r = new SplittableRandom(seed);
            int[] s = shape(r);
            int[] axes = java.util.stream.IntStream.range(0, s.length).filter(i -> r.nextBoolean())
                    .map(i -> r.nextBoolean() ? i - s.length : i).toArray();
            int[] os = s.clone();
            for (int a : axes) os[a < 0 ? a + s.length : a] = 1;
            try (Tensor x = uniform(seed, -3, 3, s); Tensor out = Tensor.zeros(os); Tensor x64 = x.to(DType.F64);
                 Tensor out64 = Tensor.zeros(DType.F64, os)) {
                run(kind, x, axes, out);
                run(kind, x64, axes, out64);
                double bound = 0;
                for (double v : x64.toDoubleArray()) bound += Math.abs(v);
                if (kind == 1) bound /= (double) x.numel() / out.numel();
                assertClose(out, out64, kind == 2 ? 0 : 1e-6 + 1e-5 * bound, 0, kindName(kind) + " " + x + " axes " + java.util.Arrays.toString(axes));
            }
        });
    }

    private static void run(int kind, Tensor x, int[] axes, Tensor out) {
        switch (kind) {
            case 0 -> Reductions.sum(x, axes, out);
            case 1 -> Reductions.mean(x, axes, out);
            default -> Reductions.max(x, axes, out);
        }
    }

    private static String kindName(int k) { return k == 0 ? "sum" : k == 1 ? "mean" : "max"; }

    @Test
    void largeReductionsAreIndependentOfThreadCount() {
        int saved = ComputePool.threads();
        int[][] cases = {{300_001}, {3, 100_003}, {1000, 37, 3}, {5, 20_000}};
        int[][] axes = {{0}, {1}, {0, 2}, {0}};
        try {
            for (int c = 0; c < cases.length; c++) {
                int[] os = cases[c].clone();
                for (int a : axes[c]) os[a] = 1;
                try (Tensor x = uniform(c, -1, 1, cases[c]); Tensor o1 = Tensor.zeros(os); Tensor o2 = Tensor.zeros(os);
                     Tensor x64 = x.to(DType.F64); Tensor o64 = Tensor.zeros(DType.F64, os)) {
                    ComputePool.setThreads(1);
                    Reductions.sum(x, axes[c], o1);
                    ComputePool.setThreads(2);
                    Reductions.sum(x, axes[c], o2);
                    assertArrayEquals(o1.toFloatArray(), o2.toFloatArray(), "case " + c);
                    Reductions.sum(x64, axes[c], o64);
                    assertClose(o1, o64, 1e-6 * x.numel(), 0, "case " + c);
                }
            }
        } finally {
            ComputePool.setThreads(saved);
        }
    }

    @Test
    void argmaxFindsFirstMaximum() {
        qt().withExamples(150).forAll(longs().between(1, 10_000_000)).checkAssert(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            int[] s = shape(r);
            int axis = r.nextInt(s.length);
            int[] os = s.clone();
            os[axis] = 1;
            try (Tensor x = uniform(seed, -3, 3, s); Tensor out = Tensor.zeros(DType.I64, os); Tensor x64 = x.to(DType.F64);
                 Tensor out64 = Tensor.zeros(DType.I64, os)) {
                Reductions.argmax(x, axis, out);
                Reductions.argmax(x64, axis, out64);
                assertArrayEquals(out64.toDoubleArray(), out.toDoubleArray());
                try (Tensor mx = Tensor.zeros(os)) {
                    Reductions.max(x, new int[] {axis}, mx);
                    double[] m = mx.toDoubleArray(), idx = out.toDoubleArray();
                    try (Tensor picked = Tensor.zeros(os)) {
                        // x at the argmax equals the max
                        int[] i = new int[s.length];
                        for (int e = 0; e < m.length; e++) {
                            int rem = e;
                            for (int d = s.length - 1; d >= 0; d--) { i[d] = rem % os[d]; rem /= os[d]; }
                            i[axis] = (int) idx[e];
                            assertEquals(m[e], x.getDouble(i));
                        }
                    }
                }
            }
        });
        try (Tensor x = Tensor.of(new float[] {1, 5, 5, 2}, 4); Tensor o = Tensor.zeros(DType.I64, 1)) {
            Reductions.argmax(x, 0, o);
            assertEquals(1, o.getDouble(0));
        }
    }

    @Test
    void badArgumentsAreRejected() {
        try (Tensor x = Tensor.zeros(2, 3); Tensor o = Tensor.zeros(2, 1); Tensor wrong = Tensor.zeros(2, 3); Tensor oi = Tensor.zeros(DType.I64, 2, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reductions.sum(x, new int[] {1}, wrong));
            assertTrue(e.getMessage().contains("out") && e.getMessage().contains("[2, 1]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Reductions.sum(x, new int[] {1, -1}, o));
            assertThrows(IllegalArgumentException.class, () -> Reductions.sum(x, new int[] {2}, o));
            assertThrows(IllegalArgumentException.class, () -> Reductions.argmax(x, 1, o));
            assertThrows(IllegalArgumentException.class, () -> Reductions.argmax(x, 5, oi));
        }
    }
}
