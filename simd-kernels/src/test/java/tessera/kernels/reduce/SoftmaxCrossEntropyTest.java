package tessera.kernels.reduce;

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
import tessera.kernels.eltwise.KernelChecks;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Softmax / log-softmax / cross-entropy: F32 vs float64 reference (softmax 1e-6 abs + 1e-5 rel; log-softmax 2e-5 abs;
 * loss 1e-5 rel), reference gradients vs central differences, stability with logits of ±1e4.
 */
class SoftmaxCrossEntropyTest {

    @Test
    void softmaxFamilyMatchesReference() {
        qt().withExamples(200).forAll(integers().between(0, 3), longs().between(1, 10_000_000)).checkAssert((kind, seed) -> {
            SplittableRandom r = new SplittableRandom(seed);
            int rank = 1 + r.nextInt(3);
            int[] s = new int[rank];
            for (int i = 0; i < rank; i++) s[i] = 1 + r.nextInt(r.nextBoolean() ? 40 : 5);
            int axis = r.nextInt(rank) - (r.nextBoolean() ? rank : 0);
            try (Tensor x = uniform(seed, -5, 5, s); Tensor g = uniform(seed + 1, -1, 1, s); Tensor out = Tensor.zeros(s);
                 Tensor x64 = x.to(DType.F64); Tensor g64 = g.to(DType.F64); Tensor out64 = Tensor.zeros(DType.F64, s)) {
                if (kind >= 2) {            // backward needs a true (log-)softmax output as y
                    if (kind == 2) Softmax.forward(x64, axis, x64); else Softmax.logForward(x64, axis, x64);
                    try (Tensor y32 = x64.to(DType.F32); Tensor y64 = y32.to(DType.F64)) {
                        if (kind == 2) { Softmax.backward(y32, g, axis, out); Softmax.backward(y64, g64, axis, out64); }
                        else { Softmax.logBackward(y32, g, axis, out); Softmax.logBackward(y64, g64, axis, out64); }
                        assertClose(out, out64, 2e-5, 1e-5, "kind " + kind + " " + x + " axis " + axis);
                    }
                    return;
                }
                if (kind == 0) { Softmax.forward(x, axis, out); Softmax.forward(x64, axis, out64); }
                else { Softmax.logForward(x, axis, out); Softmax.logForward(x64, axis, out64); }
                assertClose(out, out64, kind == 0 ? 1e-6 : 2e-5, 1e-5, "kind " + kind + " " + x + " axis " + axis);
            }
        });
    }

    @Test
    void softmaxGradientsMatchFiniteDifferences() {
        qt().withExamples(40).forAll(integers().between(1, 3), integers().between(1, 6), longs().between(1, 1_000_000)).checkAssert((a, b, seed) -> {
            for (int kind = 0; kind < 2; kind++) {
                final int k = kind;
                try (Tensor x = uniform(seed, -3, 3, a, b).to(DType.F64); Tensor v = uniform(seed + 1, -1, 1, a, b).to(DType.F64);
                     Tensor y = Tensor.zeros(DType.F64, a, b); Tensor dx = Tensor.zeros(DType.F64, a, b)) {
                    int axis = seed % 2 == 0 ? 1 : 0;
                    if (k == 0) { Softmax.forward(x, axis, y); Softmax.backward(y, v, axis, dx); }
                    else { Softmax.logForward(x, axis, y); Softmax.logBackward(y, v, axis, dx); }
                    double[] vv = v.toDoubleArray();
                    KernelChecks.gradCheck(x.toDoubleArray(), xs -> {
                        try (Tensor xt = Tensor.of(xs, a, b); Tensor yt = Tensor.zeros(DType.F64, a, b)) {
                            if (k == 0) Softmax.forward(xt, axis, yt); else Softmax.logForward(xt, axis, yt);
                            return KernelChecks.dot(vv, yt);
                        }
                    }, dx.toDoubleArray(), k == 0 ? "softmax" : "log-softmax");
                }
            }
        });
    }

    @Test
    void hugeLogitsAreStable() {
        float[] v = {1e4f, 0f, -1e4f, 1e4f};
        try (Tensor x = Tensor.of(v, 1, 4); Tensor y = Tensor.zeros(1, 4); Tensor ly = Tensor.zeros(1, 4)) {
            Softmax.forward(x, 1, y);
            Softmax.logForward(x, 1, ly);
            assertEquals(0.5, y.getDouble(0, 0));
            assertEquals(0.0, y.getDouble(0, 1));
            assertEquals(0.5, y.getDouble(0, 3));
            assertEquals(-Math.log(2), ly.getDouble(0, 0), 1e-6);
            assertEquals(-2e4 - Math.log(2), ly.getDouble(0, 2), 1e-2);
        }
        try (Tensor x = Tensor.of(new float[] {1e4f, 0f, -1e4f, -5e3f, 2e4f, 1e4f}, 2, 3); Tensor lab = Tensor.ofLongs(new long[] {0, 2}, 2);
             Tensor d = Tensor.zeros(2, 3)) {
            double loss = CrossEntropy.forward(x, lab, false, 0.0);
            assertEquals(0 + 1e4, loss, 1e-3);                       // row 0 exact 0, row 1: 2e4 − 1e4
            assertTrue(Double.isFinite(CrossEntropy.forward(x, lab, true, 0.1)));
            CrossEntropy.backward(x, lab, true, 0.0, 1.0, d);
            for (float f : d.toFloatArray()) assertTrue(Float.isFinite(f));
            assertEquals(0.5, d.getDouble(1, 1), 1e-6);
            assertEquals(-0.5, d.getDouble(1, 2), 1e-6);
        }
    }

    @Test
    void crossEntropyHandExampleWithLabelSmoothing() {
        // logits [1,2,3], label 0, ε = 0.1: lse = 3.40760596; loss = 0.9·2.40760596 + 0.1/3·(2.40760596+1.40760596+0.40760596)
        try (Tensor x = Tensor.of(new double[] {1, 2, 3}, 1, 3); Tensor lab = Tensor.ofLongs(new long[] {0}, 1);
             Tensor x32 = x.to(DType.F32)) {
            assertEquals(2.30760596, CrossEntropy.forward(x, lab, true, 0.1), 1e-7);
            assertEquals(2.30760596, CrossEntropy.forward(x32, lab, true, 0.1), 1e-6);
        }
    }

    @Test
    void crossEntropyMatchesReferenceAndGradients() {
        qt().withExamples(100).forAll(integers().between(1, 70), integers().between(1, 40), integers().between(0, 3), longs().between(1, 1_000_000))
                .checkAssert((n, c, eps10, seed) -> {
                    double eps = eps10 / 10.0;
                    SplittableRandom r = new SplittableRandom(seed);
                    long[] labels = new long[n];
                    for (int i = 0; i < n; i++) labels[i] = r.nextInt(c);
                    boolean mean = r.nextBoolean();
                    try (Tensor x = uniform(seed, -4, 4, n, c); Tensor x64 = x.to(DType.F64); Tensor lab = Tensor.ofLongs(labels, n);
                         Tensor d = Tensor.zeros(n, c); Tensor d64 = Tensor.zeros(DType.F64, n, c)) {
                        double l32 = CrossEntropy.forward(x, lab, mean, eps), l64 = CrossEntropy.forward(x64, lab, mean, eps);
                        assertEquals(l64, l32, 1e-5 * Math.abs(l64) + 1e-6);
                        CrossEntropy.backward(x, lab, mean, eps, 2.5, d);
                        CrossEntropy.backward(x64, lab, mean, eps, 2.5, d64);
                        assertClose(d, d64, 1e-6, 1e-5, "dlogits");
                        if (n * c <= 40) {
                            KernelChecks.gradCheck(x64.toDoubleArray(), xs -> {
                                try (Tensor xt = Tensor.of(xs, n, c)) {
                                    return 2.5 * CrossEntropy.forward(xt, lab, mean, eps);
                                }
                            }, d64.toDoubleArray(), "cross-entropy");
                        }
                    }
                });
    }

    @Test
    void badArgumentsAreRejected() {
        try (Tensor x = Tensor.zeros(2, 3); Tensor bad = Tensor.ofLongs(new long[] {0, 3}, 2); Tensor shortLab = Tensor.ofLongs(new long[] {0}, 1);
             Tensor good = Tensor.ofLongs(new long[] {0, 1}, 2); Tensor y = Tensor.zeros(3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, bad, true, 0));
            assertTrue(e.getMessage().contains("labels[1] = 3"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, shortLab, true, 0));
            assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, good, true, 1.5));
            assertThrows(IllegalArgumentException.class, () -> Softmax.forward(x, 1, y));
            assertThrows(IllegalArgumentException.class, () -> Softmax.forward(x, 2, x));
        }
    }
}
