package tessera.kernels.eltwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static tessera.kernels.eltwise.KernelChecks.assertClose;
import static tessera.kernels.eltwise.KernelChecks.uniform;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Broadcasting binary ops, sumToShape, axpby and ChannelAffine: F32 vs the float64 reference (1e-6 relative). */
class BinaryTest {

    /** A random out shape and two shapes that broadcast to it (dims set to 1, leading dims dropped). */
    private static int[][] shapes(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int rank = 1 + r.nextInt(4);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) out[i] = 1 + r.nextInt(i == rank - 1 ? 40 : 6);
        return new int[][] {out, squash(out, r), squash(out, r)};
    }

    private static int[] squash(int[] out, SplittableRandom r) {
        int drop = r.nextInt(out.length);
        int[] s = new int[out.length - drop];
        for (int i = 0; i < s.length; i++) s[i] = r.nextInt(3) == 0 ? 1 : out[i + drop];
        return s;
    }

    @Test
    void applyMatchesReferenceWithBroadcasting() {
        qt().withExamples(300).forAll(integers().between(0, 3), longs().between(1, 10_000_000)).checkAssert((opi, seed) -> {
            Binary.Op op = Binary.Op.values()[opi];
            int[][] sh = shapes(seed);
            sh[0] = Binary.broadcastShape(sh[1], sh[2]);     // both inputs may have squashed the same dimension
            try (Tensor a = uniform(seed, -2, 2, sh[1]); Tensor b = uniform(seed + 1, 0.5, 2, sh[2]); Tensor out = Tensor.zeros(sh[0]);
                 Tensor a64 = a.to(DType.F64); Tensor b64 = b.to(DType.F64); Tensor out64 = Tensor.zeros(DType.F64, sh[0])) {
                Binary.apply(op, a, b, out);
                Binary.apply(op, a64, b64, out64);
                assertClose(out, out64, 1e-7, 1e-6, op + " " + a + " " + b);
            }
        });
    }

    @Test
    void stridedAndExpandedInputs() {
        try (Tensor a = uniform(1, -1, 1, 5, 9); Tensor b = uniform(2, -1, 1, 9); Tensor out = Tensor.zeros(9, 5);
             Tensor expected = Tensor.zeros(9, 5)) {
            Tensor at = a.transpose(0, 1);                     // [9, 5], non-contiguous
            Tensor bcol = b.reshape(9, 1);
            Binary.apply(Binary.Op.MUL, at, bcol, out);
            try (Tensor ac = at.copy()) {
                Binary.apply(Binary.Op.MUL, ac, bcol, expected);
            }
            for (int i = 0; i < 9; i++) for (int j = 0; j < 5; j++) {
                assertTrue(out.getFloat(i, j) == a.getFloat(j, i) * b.getFloat(i), "element " + i + "," + j);
            }
            assertArrayEquals(expected.toFloatArray(), out.toFloatArray());
            try (Tensor wide = Tensor.zeros(9, 5)) {
                Binary.apply(Binary.Op.ADD, at, b.reshape(9, 1).expand(9, 5), wide);   // stride-0 view
                for (int i = 0; i < 9; i++) for (int j = 0; j < 5; j++) assertTrue(wide.getFloat(i, j) == a.getFloat(j, i) + b.getFloat(i));
            }
        }
    }

    @Test
    void sumToShapeOfIntegersIsExactlyTheAdjointOfBroadcasting() {
        // small integers: every float32 partial sum is exact in any order, so each output must equal the sum of
        // exactly the grad elements that broadcast from it, bit for bit
        qt().withExamples(150).forAll(longs().between(1, 10_000_000)).checkAssert(seed -> {
            int[][] sh = shapes(seed);
            try (Tensor u = uniform(seed, -1, 1, sh[0]); Tensor g = Tensor.zeros(sh[0]); Tensor out = Tensor.zeros(sh[1])) {
                double[] gs = u.toDoubleArray();
                for (int i = 0; i < gs.length; i++) gs[i] = Math.rint(8 * gs[i]) + 0.0; // no −0: a sum of terms is never −0
                TensorArgs.store(g, gs);
                Binary.sumToShape(g, out);
                double[] expect = new double[(int) out.numel()];
                try (Tensor idx = Tensor.zeros(DType.F64, sh[1])) {
                    double[] ids = new double[expect.length];
                    for (int i = 0; i < ids.length; i++) ids[i] = i;
                    TensorArgs.store(idx, ids);
                    double[] map = idx.expand(sh[0]).toDoubleArray();
                    for (int i = 0; i < gs.length; i++) expect[(int) map[i]] += gs[i];
                }
                assertArrayEquals(expect, out.toDoubleArray(), "sumToShape of integers, grad " + java.util.Arrays.toString(sh[0])
                        + " to " + java.util.Arrays.toString(sh[1]));
            }
        });
    }

    @Test
    void sumToShapeIsTheAdjointOfBroadcasting() {
        qt().withExamples(150).forAll(longs().between(1, 10_000_000)).checkAssert(seed -> {
            int[][] sh = shapes(seed);
            try (Tensor g = uniform(seed, -1, 1, sh[0]); Tensor out = Tensor.zeros(sh[1]); Tensor g64 = g.to(DType.F64);
                 Tensor out64 = Tensor.zeros(DType.F64, sh[1])) {
                Binary.sumToShape(g, out);
                Binary.sumToShape(g64, out64);
                // brute force: out64[j] = Σ g over the elements that broadcast from j
                double[] gs = g64.toDoubleArray(), expect = new double[(int) out64.numel()];
                double[] absSum = new double[expect.length], terms = new double[expect.length];
                try (Tensor idx = Tensor.zeros(DType.F64, sh[1])) {
                    double[] ids = new double[expect.length];
                    for (int i = 0; i < ids.length; i++) ids[i] = i;
                    TensorArgs.store(idx, ids);
                    double[] map = idx.expand(sh[0]).toDoubleArray();
                    for (int i = 0; i < gs.length; i++) {
                        int j = (int) map[i];
                        expect[j] += gs[i];
                        absSum[j] += Math.abs(gs[i]);
                        terms[j]++;
                    }
                }
                assertClose(out64.toDoubleArray(), expect, 1e-12, 1e-12, "sumToShape reference");
                // float32 sums of n terms in any order: |error| <= (n + 2)·u·Σ|terms| (u = 2^-24), the bound the
                // convolution properties use; a fixed 1e-5 failed honest sums of many cancelling terms (seed 164792:
                // |diff| 1.75e-5 on -0.72). Which terms are summed is checked exactly by the integer property above.
                double[] got = out.toDoubleArray();
                for (int j = 0; j < expect.length; j++) {
                    double tol = (terms[j] + 2) * 0x1p-24 * absSum[j];
                    assertTrue(Math.abs(got[j] - expect[j]) <= tol, "sumToShape F32: element " + j + " is " + got[j]
                            + ", expected " + expect[j] + " ± " + tol + " (" + terms[j] + " terms)");
                }
            }
        });
    }

    @Test
    void axpbyAndChannelAffine() {
        qt().withExamples(100).forAll(integers().between(1, 3), integers().between(1, 6), integers().between(1, 70), longs().between(1, 1_000_000))
                .checkAssert((n, c, hw, seed) -> {
                    try (Tensor x = uniform(seed, -2, 2, n, c, hw); Tensor y = uniform(seed + 1, -2, 2, n, c, hw);
                         Tensor x64 = x.to(DType.F64); Tensor y64 = y.to(DType.F64)) {
                        Binary.axpby(0.75f, x, -1.5f, y);
                        Binary.axpby(0.75f, x64, -1.5f, y64);
                        assertClose(y, y64, 1e-6, 1e-6, "axpby");
                        try (Tensor s = uniform(seed + 2, -2, 2, c); Tensor b = uniform(seed + 3, -2, 2, c); Tensor out = Tensor.zeros(n, c, hw);
                             Tensor out64 = Tensor.zeros(DType.F64, n, c, hw); Tensor s64 = s.to(DType.F64); Tensor b64 = b.to(DType.F64)) {
                            ChannelAffine.forward(x, s, b, out);
                            ChannelAffine.forward(x64, s64, b64, out64);
                            assertClose(out, out64, 1e-6, 1e-6, "channel affine");
                            ChannelAffine.forward(x, null, b, out);
                            ChannelAffine.forward(x64, null, b64, out64);
                            assertClose(out, out64, 1e-6, 1e-6, "channel bias only");
                        }
                    }
                });
    }

    @Test
    void badShapesAreRejected() {
        try (Tensor a = Tensor.zeros(2, 3); Tensor b = Tensor.zeros(4); Tensor out = Tensor.zeros(2, 3); Tensor wrong = Tensor.zeros(3, 2);
             Tensor d = Tensor.zeros(DType.F64, 2, 3); Tensor s = Tensor.zeros(5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Binary.apply(Binary.Op.ADD, a, b, out));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Binary.apply(Binary.Op.ADD, a, a, wrong));
            assertTrue(e.getMessage().contains("out"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Binary.apply(Binary.Op.ADD, a, d, out));
            assertThrows(IllegalArgumentException.class, () -> Binary.sumToShape(a, wrong));
            assertThrows(IllegalArgumentException.class, () -> Binary.axpby(1, a, 1, wrong));
            e = assertThrows(IllegalArgumentException.class, () -> ChannelAffine.forward(a, s, null, out));
            assertTrue(e.getMessage().contains("scale"), e.getMessage());
        }
    }
}
