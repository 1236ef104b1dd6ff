package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * The same graph code run on float32 tensors (Vector API kernels) and on float64 tensors (reference kernels) gives
 * the same outputs and input gradients within |f32 − f64| ≤ 1e-3·(1 + max|f64|) + 1e-3·|f64| — float32 rounding
 * over the short reductions used here, with margin; a wrong fast kernel is off by O(1).
 */
class Float32AgreementTest {
    @TestFactory
    Stream<DynamicTest> float32GraphsMatchFloat64() {
        return OpGradientPropertiesTest.CASES.stream().map(c -> DynamicTest.dynamicTest(c.name(), () ->
                qt().withExamples(8).forAll(integers().between(1, 3), integers().between(1, 4), integers().between(1, 4), longs().between(0, 1_000_000))
                        .checkAssert((n, ch, s, seed) -> {
                            int[][] shapes = c.shapes().apply(new int[]{n, ch, s});
                            SplittableRandom r = new SplittableRandom(seed);
                            List<Tensor> f64 = new ArrayList<>();
                            for (int[] sh : shapes) {
                                Tensor t = Tensor.zeros(DType.F64, sh);
                                if (c.positive()) RandomFill.uniform(t, r.nextLong(), 0.5, 2);
                                else RandomFill.uniform(t, r.nextLong(), -1, 1);
                                // round to float32 values so both precisions see identical inputs
                                Tensor rounded = t.to(DType.F32).to(DType.F64);
                                t.close();
                                f64.add(rounded);
                            }
                            double[][] ref = run(c, f64, seed);
                            List<Tensor> f32 = new ArrayList<>();
                            for (Tensor t : f64) f32.add(t.to(DType.F32));
                            double[][] fast = run(c, f32, seed);
                            for (int k = 0; k < ref.length; k++) {
                                double scale = 0;
                                for (double v : ref[k]) scale = Math.max(scale, Math.abs(v));
                                for (int i = 0; i < ref[k].length; i++) {
                                    double tol = 1e-3 * (1 + scale) + 1e-3 * Math.abs(ref[k][i]);
                                    assertTrue(Math.abs(fast[k][i] - ref[k][i]) <= tol, c.name() + " " + (k == 0 ? "output" : "gradient of input " + (k - 1))
                                            + " [" + i + "]: f32 " + fast[k][i] + " vs f64 " + ref[k][i] + " (shapes " + java.util.Arrays.deepToString(shapes) + ")");
                                }
                            }
                            f64.forEach(Tensor::close);
                            f32.forEach(Tensor::close);
                        })));
    }

    /** {output, grad of input 0, grad of input 1, ...} with L = Σ y ⊙ v for a fixed v. */
    private static double[][] run(OpGradientPropertiesTest.OpCase c, List<Tensor> inputs, long seed) {
        try (Scope s = Scope.open()) {
            List<Variable> vs = new ArrayList<>();
            for (Tensor t : inputs) vs.add(Variable.parameter(t));
            Variable y = c.f().apply(vs);
            Tensor v = Scope.alloc(y.dtype(), y.shape());
            RandomFill.uniform(v, seed + 1, -1, 1);
            Tensor v32 = v.to(DType.F32);
            v.copyFrom(v32);
            v32.close();
            y.backward(v);
            double[][] out = new double[inputs.size() + 1][];
            out[0] = y.value().toDoubleArray();
            for (int k = 0; k < inputs.size(); k++) {
                Tensor g = vs.get(k).grad();
                out[k + 1] = g == null ? new double[0] : g.toDoubleArray();
                vs.get(k).releaseGrad();
            }
            return out;
        }
    }
}
