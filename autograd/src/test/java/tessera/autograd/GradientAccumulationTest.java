package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Values that feed several ops, where an {@link AccumulatingBackward} (the convolution) adds the gradient already
 * pending for its input instead of the engine: the gradients equal the sums of each use's gradient taken alone
 * (float64, to the last bits of the summation order), whether the pending gradient came from a convolution or another
 * op, for a weight shared by two convolutions, and for a value that is both input and weight of one convolution (no
 * pending gradient is handed over then). The profiler sees the engine's own sums only.
 */
class GradientAccumulationTest {
    /** loss = Σ_i sum(use_i(x, w)) for each use alone, then all together; x and w gradients compared. */
    private static void sumsOfSeparateUses(Tensor xv, Tensor wv, List<Function<Variable[], Variable>> uses) {
        double[] gx = new double[(int) xv.numel()], gw = new double[(int) wv.numel()];
        for (Function<Variable[], Variable> use : uses) {
            double[][] g = gradients(xv, wv, List.of(use));
            for (int i = 0; i < gx.length; i++) gx[i] += g[0][i];
            for (int i = 0; i < gw.length; i++) gw[i] += g[1][i];
        }
        double[][] together = gradients(xv, wv, uses);
        assertArrayEquals(gx, together[0], 1e-12, "x gradient");
        assertArrayEquals(gw, together[1], 1e-12, "w gradient");
    }

    private static double[][] gradients(Tensor xv, Tensor wv, List<Function<Variable[], Variable>> uses) {
        Variable x = Variable.parameter(xv.copy(), "x"), w = Variable.parameter(wv.copy(), "w");
        try (Scope s = Scope.open()) {
            Variable loss = null;
            for (Function<Variable[], Variable> use : uses) {
                Variable term = Ops.sum(use.apply(new Variable[]{x, w}));
                loss = loss == null ? term : Ops.add(loss, term);
            }
            loss.backward();
            return new double[][]{orZeros(x.grad(), xv), orZeros(w.grad(), wv)};
        } finally {
            x.value().close(); w.value().close(); x.releaseGrad(); w.releaseGrad();
        }
    }

    /** A gradient's values, or zeros when the value got none (a use that does not reach it). */
    private static double[] orZeros(Tensor grad, Tensor like) {
        return grad == null ? new double[(int) like.numel()] : grad.toDoubleArray();
    }

    @Test
    void aValueFeedingConvolutionsAndOtherOps() {
        qt().withExamples(25).forAll(integers().between(1, 3), integers().between(1, 4), integers().between(3, 7),
                        integers().between(0, 1 << 20))
                .checkAssert((n, c, hw, seed) -> {
                    try (Tensor x = RandomFill.uniform(Tensor.zeros(DType.F64, n, c, hw, hw), seed, -1, 1);
                         Tensor w = RandomFill.uniform(Tensor.zeros(DType.F64, c, c, 3, 3), seed + 1, -1, 1)) {
                        List<Function<Variable[], Variable>> uses = new ArrayList<>();
                        uses.add(v -> Ops.mul(v[0], v[0]));                                   // pending before the convolutions
                        uses.add(v -> Ops.conv2d(v[0], v[1], null, ConvArgs.of(1, 1)));       // adds it
                        uses.add(v -> Ops.relu(Ops.conv2d(v[0], v[1], null, ConvArgs.of(2, 1)))); // shares w, adds again
                        sumsOfSeparateUses(x, w, uses);
                    }
                });
    }

    @Test
    void aValueThatIsInputAndWeightOfOneConvolution() {
        try (Tensor x = RandomFill.uniform(Tensor.zeros(DType.F64, 1, 1, 3, 3), 5, -1, 1);
             Tensor w = RandomFill.uniform(Tensor.zeros(DType.F64, 1, 1, 3, 3), 6, -1, 1)) {
            List<Function<Variable[], Variable>> uses = new ArrayList<>();
            uses.add(v -> Ops.scale(v[0], 3));
            uses.add(v -> Ops.conv2d(v[0], v[0], null, ConvArgs.of(1, 1)));
            uses.add(v -> Ops.conv2d(v[0], v[1], null, ConvArgs.of(1, 0)));
            sumsOfSeparateUses(x, w, uses);
        }
    }

    @Test
    void theProfilerSeesOnlyTheEnginesOwnSums() {
        List<String> ops = new ArrayList<>();
        BackwardObserver record = new BackwardObserver() {
            @Override public void before(String op, Tensor gradient) { ops.add(op); }
            @Override public void after(String op, Tensor gradient) {}
        };
        try (Tensor xv = RandomFill.uniform(Tensor.zeros(DType.F32, 1, 2, 4, 4), 1, -1, 1);
             Tensor wv = RandomFill.uniform(Tensor.zeros(DType.F32, 2, 2, 3, 3), 2, -1, 1);
             Scope s = Scope.open(); BackwardObserver.Installation i = BackwardObserver.install(record)) {
            Variable x = Variable.parameter(xv), w = Variable.parameter(wv);
            // x + conv(x): the add hands x a gradient, the convolution adds its own to it
            Ops.sum(Ops.add(x, Ops.conv2d(x, w, null, ConvArgs.of(1, 1)))).backward();
            assertEquals(0, ops.stream().filter(BackwardObserver.GRADIENT_SUM::equals).count(), ops.toString());
            // x · x: the engine sums the two
            ops.clear();
            Ops.sum(Ops.mul(x, x)).backward();
            assertEquals(1, ops.stream().filter(BackwardObserver.GRADIENT_SUM::equals).count(), ops.toString());
            x.releaseGrad(); w.releaseGrad();
        }
    }
}
