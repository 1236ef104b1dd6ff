package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.kernels.volume.Conv3dSpec;
import tessera.kernels.volume.ConvTranspose3dSpec;
import tessera.kernels.volume.Pool3dSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Every op that records a forward computation replays as it runs eagerly: a {@link CapturedStep} captured on one
 * input and run on another gives the loss and input gradient an eager step on that other input gives, bit for bit.
 * The loss weights the op's output by a fixed random tensor, so every output element reaches the gradient.
 */
class ReplayableOpsTest {
    /** Each op on x [n, c, h, w] (c even, h and w even), with a second parameter where it takes one. */
    private static Map<String, BiFunction<Variable, Variable, Variable>> ops() {
        Map<String, BiFunction<Variable, Variable, Variable>> m = new LinkedHashMap<>();
        m.put("sub", (x, p) -> Ops.sub(x, Ops.scale(x, 0.25)));
        m.put("mul", (x, p) -> Ops.mul(x, x));
        m.put("div", (x, p) -> Ops.div(x, Ops.add(Ops.exp(x), x)));
        m.put("scale/log/exp/sqrt/square", (x, p) -> Ops.square(Ops.sqrt(Ops.log(Ops.add(Ops.exp(x), Ops.exp(x))))));
        m.put("matmul / permute", (x, p) -> Ops.matmul(Ops.reshape(x, x.dim(0), -1), Ops.reshape(Ops.permute(x, 3, 2, 1, 0), -1, x.dim(0))));
        m.put("conv_transpose2d", (x, p) -> Ops.convTranspose2d(x, p, null, ConvArgs.of(2, 1)));
        m.put("max_pool2d + max_unpool2d", (x, p) -> {
            Variable[] pooled = Ops.maxPool2dWithIndices(x, PoolSpec.of(PoolType.MAX, 2, 2, 0));
            return Ops.maxUnpool(pooled[0], pooled[1].value(), x.dim(2), x.dim(3));
        });
        m.put("global_max_pool", (x, p) -> Ops.globalMaxPool(x));
        m.put("prelu / sum over axes", (x, p) -> Ops.prelu(x, Ops.reshape(Ops.mean(x, 0, 2, 3), x.dim(1))));
        m.put("maxout", (x, p) -> Ops.maxout(x, 2));
        m.put("local_response_norm", (x, p) -> Ops.localResponseNorm(x, 3, 1e-2, 0.75, 2));
        m.put("softmax / log_softmax", (x, p) -> Ops.add(Ops.softmax(x, 1), Ops.logSoftmax(x, 3)));
        m.put("concat / pad2d", (x, p) -> Ops.pad2d(Ops.concat(List.of(x, Ops.relu(x)), 1), 1, 2, 0, 1, 0.5));
        m.put("mean / scale_channels", (x, p) -> Ops.scaleChannels(x, Ops.reshape(Ops.mean(x), 1, 1)));
        m.put("maximum / slice", (x, p) -> Ops.maximum(Ops.slice(x, 3, 0, x.dim(3), 2), Ops.slice(Ops.scale(x, -0.5), 3, 1, x.dim(3), 2)));
        m.put("nll_loss", (x, p) -> {
            Tensor labels = Scope.alloc(DType.I64, x.dim(0)); // zeros: class 0 of each row
            return Ops.nllLoss(Ops.logSoftmax(Ops.reshape(x, x.dim(0), -1), 1), labels, true);
        });
        m.put("mse", (x, p) -> Ops.mse(x, Ops.scale(x, 0.5), true));
        m.put("conv3d / conv_transpose3d / pool3d", (x, p) -> {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
            Variable x5 = Ops.reshape(x, n, c, 2, h / 2, w);
            Variable k = Ops.reshape(Ops.slice(Ops.reshape(p, -1), 0, 0, 9 * c, 1), 1, c, 1, 3, 3);
            int[] in = {2, h / 2, w}, ones = {1, 1, 1};
            Variable y = Ops.conv3d(x5, k, null, new Conv3dSpec(n, c, 1, 1, in, new int[]{1, 3, 3}, ones, new int[]{0, 1, 1, 0, 1, 1}, ones));
            Variable kt = Ops.reshape(Ops.slice(Ops.reshape(p, -1), 0, 0, 8, 1), 1, 1, 2, 2, 2);
            y = Ops.convTranspose3d(y, kt, null, new ConvTranspose3dSpec(n, 1, 1, 1, in, new int[]{2, 2, 2}, ones,
                    new int[6], new int[3], ones));
            return Ops.pool3d(y, new Pool3dSpec(PoolType.MAX, new int[]{2, 2, 2}, new int[]{2, 2, 2}, new int[6], ones, false, false));
        });
        return m;
    }

    /** The loss Σ weight ⊙ op(x, p) and x's gradient, eagerly. */
    private static double[] eager(BiFunction<Variable, Variable, Variable> op, Tensor xv, Tensor pv, Tensor weight) {
        Variable x = Variable.parameter(xv.copy()), p = Variable.parameter(pv.copy());
        try (Scope s = Scope.open()) {
            Variable loss = weighted(op.apply(x, p), weight);
            loss.backward();
            return result(loss.value().item(), x.grad());
        } finally {
            x.value().close(); p.value().close(); x.releaseGrad(); p.releaseGrad();
        }
    }

    private static Variable weighted(Variable y, Tensor weight) {
        Tensor w = weight.numel() == y.value().numel() ? weight.reshape(y.shape()) : null;
        if (w == null) throw new IllegalStateException("weight has " + weight.numel() + " elements, output " + y.value().numel());
        return Ops.sum(Ops.mul(y, Variable.constant(w)));
    }

    private static double[] result(double loss, Tensor grad) {
        double[] g = grad.toDoubleArray(), r = new double[g.length + 1];
        r[0] = loss;
        System.arraycopy(g, 0, r, 1, g.length);
        return r;
    }

    @Test
    void everyOpReplaysAsItRunsEagerly() {
        qt().withExamples(8).forAll(integers().between(1, 2), integers().between(1, 2), integers().between(2, 3),
                        integers().between(0, 1 << 20))
                .checkAssert((n, halfC, halfHw, seed) -> {
                    int c = 2 * halfC, hw = 2 * halfHw;
                    for (Map.Entry<String, BiFunction<Variable, Variable, Variable>> e : ops().entrySet()) {
                        try (Tensor a = RandomFill.uniform(Tensor.zeros(DType.F32, n, c, hw, hw), seed, -1, 1);
                             Tensor b = RandomFill.uniform(Tensor.zeros(DType.F32, n, c, hw, hw), seed + 1, -1, 1);
                             Tensor pv = RandomFill.uniform(Tensor.zeros(DType.F32, c, 3, 3, 3), seed + 2, -0.5, 0.5)) {
                            long outElements;
                            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                                outElements = e.getValue().apply(Variable.constant(a), Variable.constant(pv)).value().numel();
                            }
                            try (Tensor weight = RandomFill.uniform(Tensor.zeros(DType.F32, (int) outElements), seed + 3, -1, 1)) {
                                double[] expected = eager(e.getValue(), b, pv, weight);
                                Variable x = Variable.parameter(a.copy()), p = Variable.parameter(pv.copy());
                                try (CapturedStep step = CapturedStep.capture(() -> weighted(e.getValue().apply(x, p), weight))) {
                                    x.value().copyFrom(b);
                                    x.zeroGrad();
                                    double loss = step.run();
                                    double[] replayed = result(loss, x.grad());
                                    assertEquals(expected[0], replayed[0], 0.0, e.getKey() + ": loss");
                                    assertArrayEquals(expected, replayed, 0.0, e.getKey() + ": loss and input gradient");
                                } finally {
                                    x.value().close(); p.value().close(); x.releaseGrad(); p.releaseGrad();
                                }
                            }
                        }
                    }
                });
    }
}
