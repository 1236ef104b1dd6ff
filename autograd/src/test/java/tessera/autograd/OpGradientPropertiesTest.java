package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Every op in {@link Ops}: analytic gradients equal central finite differences in float64
 * (ε = 1e-6, |a − n| ≤ 1e-5 + 1e-3·|n|, PyTorch's gradcheck rule), for random small shapes.
 * Inputs are drawn from U(−1, 1) (U(0.5, 2) where the op needs positive inputs); kinks inside the difference
 * interval are detected and skipped by {@link GradientCheck}, and a run that skipped everything fails.
 */
class OpGradientPropertiesTest {
    /** One op under test: input shapes from (n, c, s) and the function of the inputs. */
    record OpCase(String name, Function<int[], int[][]> shapes, boolean positive, Function<List<Variable>, Variable> f) {}

    static final List<OpCase> CASES = new ArrayList<>();

    static void op(String name, Function<int[], int[][]> shapes, Function<List<Variable>, Variable> f) {
        CASES.add(new OpCase(name, shapes, false, f));
    }

    static void positiveOp(String name, Function<int[], int[][]> shapes, Function<List<Variable>, Variable> f) {
        CASES.add(new OpCase(name, shapes, true, f));
    }

    static int[][] img(int[] d) { return new int[][]{{d[0], d[1], d[2] + 2, d[2] + 3}}; }

    static {
        op("add (broadcast)", d -> new int[][]{{d[0], d[1], d[2]}, {1, d[1], 1}}, v -> Ops.add(v.get(0), v.get(1)));
        op("sub (broadcast)", d -> new int[][]{{d[0], d[1]}, {d[1]}}, v -> Ops.sub(v.get(0), v.get(1)));
        op("mul (broadcast)", d -> new int[][]{{d[0], d[1], d[2]}, {d[0], 1, d[2]}}, v -> Ops.mul(v.get(0), v.get(1)));
        positiveOp("div (broadcast)", d -> new int[][]{{d[0], d[1]}, {d[0], 1}}, v -> Ops.div(v.get(0), v.get(1)));
        op("scale", d -> new int[][]{{d[0], d[1]}}, v -> Ops.scale(v.get(0), -2.5));
        op("maximum", d -> new int[][]{{d[0], d[1]}, {d[0], d[1]}}, v -> Ops.maximum(v.get(0), v.get(1)));
        positiveOp("log", d -> new int[][]{{d[0], d[1]}}, v -> Ops.log(v.get(0)));
        op("exp", d -> new int[][]{{d[0], d[1]}}, v -> Ops.exp(v.get(0)));
        positiveOp("sqrt", d -> new int[][]{{d[0], d[1]}}, v -> Ops.sqrt(v.get(0)));
        op("square", d -> new int[][]{{d[0], d[1]}}, v -> Ops.square(v.get(0)));
        op("matmul", d -> new int[][]{{d[0], d[1]}, {d[1], d[2]}}, v -> Ops.matmul(v.get(0), v.get(1)));
        op("linear", d -> new int[][]{{d[0], d[1]}, {d[2], d[1]}, {d[2]}}, v -> Ops.linear(v.get(0), v.get(1), v.get(2)));
        op("conv2d 3x3 pad 1", d -> new int[][]{{d[0], d[1], d[2] + 2, d[2] + 1}, {2, d[1], 3, 3}, {2}},
                v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), ConvArgs.of(1, 1)));
        op("conv2d 2x3 stride 2 dilation 2 asym pad", d -> new int[][]{{d[0], d[1], d[2] + 4, d[2] + 5}, {3, d[1], 2, 3}, {3}},
                v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), new ConvArgs(2, 1, 1, 0, 0, 2, 2, 2, 1, 0, 0)));
        op("conv2d depthwise", d -> new int[][]{{d[0], 2 * d[1], d[2] + 2, d[2] + 2}, {2 * d[1], 1, 3, 3}, {2 * d[1]}},
                v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), ConvArgs.of(1, 1, 1, 2 * v.get(0).dim(1) / 2)));
        op("conv_transpose2d stride 2", d -> new int[][]{{d[0], d[1], d[2] + 1, d[2]}, {d[1], 2, 3, 3}, {2}},
                v -> Ops.convTranspose2d(v.get(0), v.get(1), v.get(2), ConvArgs.of(2, 1).withOutputPadding(1, 1)));
        op("max_pool 3x3/2 pad 1", OpGradientPropertiesTest::img, v -> Ops.pool2d(v.get(0), PoolSpec.of(PoolType.MAX, 3, 2, 1)));
        op("avg_pool 2x2/2 ceil", OpGradientPropertiesTest::img,
                v -> Ops.pool2d(v.get(0), new PoolSpec(PoolType.AVG, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, true, false)));
        positiveOp("l2_pool 2x2/1", OpGradientPropertiesTest::img, v -> Ops.pool2d(v.get(0), PoolSpec.of(PoolType.L2, 2, 1, 0)));
        op("global_avg_pool", OpGradientPropertiesTest::img, v -> Ops.globalAvgPool(v.get(0)));
        op("global_max_pool", OpGradientPropertiesTest::img, v -> Ops.globalMaxPool(v.get(0)));
        op("max_unpool(max_pool)", OpGradientPropertiesTest::img, v -> {
            Variable[] p = Ops.maxPool2dWithIndices(v.get(0), PoolSpec.of(PoolType.MAX, 2, 2, 0));
            return Ops.maxUnpool(p[0], p[1].value(), v.get(0).dim(2), v.get(0).dim(3));
        });
        for (Activation a : Activation.values()) {
            if (a.parameterCount() < 2) {
                op("activation " + a, d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.activation(v.get(0), a, 0.1f));
            }
        }
        // the two-parameter and hard activations, with parameters that put their kinks inside U(-1, 1) (or scaled inputs)
        for (ActivationFn f : List.of(ActivationFn.clip(-0.5f, 0.25f), ActivationFn.clip(Float.NEGATIVE_INFINITY, 0.3f), ActivationFn.relu6(),
                ActivationFn.hardSigmoid(0.2f, 0.5f), ActivationFn.hardSigmoid(2f, 0.5f), ActivationFn.selu(), ActivationFn.selu(1.3f, 0.8f))) {
            op("activation " + f, d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.activation(v.get(0), f));
        }
        op("activation HardSwish (inputs ×4)", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.activation(Ops.scale(v.get(0), 4), ActivationFn.hardSwish()));
        op("activation Relu6 (inputs ×8)", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.activation(Ops.scale(v.get(0), 8), ActivationFn.relu6()));
        op("prelu per channel", d -> new int[][]{{d[0], d[1], d[2]}, {d[1]}}, v -> Ops.prelu(v.get(0), v.get(1)));
        op("maxout 2", d -> new int[][]{{d[0], 2 * d[1], d[2]}}, v -> Ops.maxout(v.get(0), 2));
        op("batch_norm train", d -> new int[][]{{d[0] + 1, d[1], d[2], 2}, {d[1]}, {d[1]}}, v -> {
            int c = v.get(0).dim(1);
            return Ops.batchNorm(v.get(0), v.get(1), v.get(2), Tensor.zeros(v.get(0).dtype(), c), ones(c, v.get(0).dtype()), true, 0.1, 1e-5);
        });
        op("batch_norm_relu train", d -> new int[][]{{d[0] + 1, d[1], d[2], 2}, {d[1]}, {d[1]}}, v -> {
            int c = v.get(0).dim(1);
            return Ops.batchNormRelu(v.get(0), v.get(1), v.get(2), Tensor.zeros(v.get(0).dtype(), c), ones(c, v.get(0).dtype()), 0.1, 1e-5);
        });
        op("batch_norm eval", d -> new int[][]{{d[0], d[1], d[2], 2}, {d[1]}, {d[1]}}, v -> {
            int c = v.get(0).dim(1);
            Tensor rv = ones(c, v.get(0).dtype());
            rv.fill(1.7);
            return Ops.batchNorm(v.get(0), v.get(1), v.get(2), Tensor.zeros(v.get(0).dtype(), c), rv, false, 0.1, 1e-5);
        });
        op("local_response_norm", d -> new int[][]{{d[0], d[1] + 2, d[2], 2}}, v -> Ops.localResponseNorm(v.get(0), 3, 0.5, 0.75, 1.0));
        op("dropout (fixed mask)", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.dropout(v.get(0), 0.3, true, 42));
        op("softmax", d -> new int[][]{{d[0], d[1] + 1}}, v -> Ops.softmax(v.get(0), 1));
        op("log_softmax", d -> new int[][]{{d[0], d[1] + 1}}, v -> Ops.logSoftmax(v.get(0), 1));
        op("cross_entropy mean, smoothing 0.1", d -> new int[][]{{d[0], d[1] + 1}}, v -> Ops.crossEntropy(v.get(0), labels(v.get(0)), true, 0.1));
        op("cross_entropy sum", d -> new int[][]{{d[0], d[1] + 1}}, v -> Ops.crossEntropy(v.get(0), labels(v.get(0)), false, 0));
        op("nll_loss", d -> new int[][]{{d[0], d[1] + 1}}, v -> Ops.nllLoss(v.get(0), labels(v.get(0)), true));
        op("mse", d -> new int[][]{{d[0], d[1]}, {d[0], d[1]}}, v -> Ops.mse(v.get(0), v.get(1), true));
        op("reshape", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.square(Ops.reshape(v.get(0), -1)));
        op("flatten", OpGradientPropertiesTest::img, v -> Ops.square(Ops.flatten(v.get(0), 1)));
        op("permute", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.square(Ops.permute(v.get(0), 2, 0, 1)));
        op("concat", d -> new int[][]{{d[0], d[1], d[2]}, {d[0], 2, d[2]}}, v -> Ops.square(Ops.concat(List.of(v.get(0), v.get(1)), 1)));
        op("slice", d -> new int[][]{{d[0], d[1] + 3, d[2]}}, v -> Ops.square(Ops.slice(v.get(0), 1, 1, v.get(0).dim(1), 2)));
        op("pad2d", OpGradientPropertiesTest::img, v -> Ops.square(Ops.pad2d(v.get(0), 1, 0, 2, 1, 0.5)));
        op("sum", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.sum(Ops.square(v.get(0))));
        op("mean", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.mean(Ops.square(v.get(0))));
        op("sum over axes", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.sum(Ops.square(v.get(0)), 0, 2));
        op("mean over axes", d -> new int[][]{{d[0], d[1], d[2]}}, v -> Ops.mean(Ops.square(v.get(0)), 1));
        op("scale_channels (SE)", d -> new int[][]{{d[0], d[1], d[2], 2}, {d[0], d[1]}}, v -> Ops.scaleChannels(v.get(0), v.get(1)));
    }

    static Tensor ones(int c, DType type) {
        Tensor t = Tensor.zeros(type, c);
        t.fill(1);
        return t;
    }

    static Tensor labels(Variable logits) {
        int n = logits.dim(0), k = logits.dim(1);
        long[] l = new long[n];
        for (int i = 0; i < n; i++) l[i] = (i * 7L + 3) % k;
        return Tensor.ofLongs(l, n);
    }

    @TestFactory
    Stream<DynamicTest> everyOpMatchesFiniteDifferences() {
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.name(), () ->
                qt().withExamples(15).forAll(integers().between(1, 3), integers().between(1, 3), integers().between(1, 3), longs().between(0, 1_000_000))
                        .checkAssert((n, ch, s, seed) -> {
                            int[][] shapes = c.shapes().apply(new int[]{n, ch, s});
                            List<Tensor> inputs = new ArrayList<>();
                            SplittableRandom r = new SplittableRandom(seed);
                            for (int[] sh : shapes) {
                                Tensor t = Tensor.zeros(DType.F64, sh);
                                if (c.positive()) RandomFill.uniform(t, r.nextLong(), 0.5, 2);
                                else RandomFill.uniform(t, r.nextLong(), -1, 1);
                                inputs.add(t);
                            }
                            try {
                                GradientCheck.Result res = GradientCheck.check(c.f(), inputs, seed, GradientCheck.Settings.DEFAULT);
                                assertTrue(res.passed(), c.name() + " shapes " + java.util.Arrays.deepToString(shapes) + ": " + res.message());
                                assertTrue(res.checked() > 0, c.name() + ": every coordinate was skipped as a kink");
                            } finally {
                                inputs.forEach(Tensor::close);
                            }
                        })));
    }
}
