package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tessera.kernels.eltwise.Binary;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * A {@link CapturedStep} computes what eager steps compute, bit for bit, over several steps whose inputs, labels and
 * parameters (updated by SGD in between) change: losses, every parameter gradient, the parameters after the updates
 * and the batch-norm running statistics — on a residual network of every op a captured step replays (convolution,
 * batch norm with and without the fused ReLU, addition, ReLU, max pooling, global average pooling, reshape, linear,
 * cross-entropy). An op without a forward computation to replay (a plugin's hand-written one) is refused at capture,
 * by name.
 */
class CapturedStepTest {
    private static final int CLASSES = 3, STEPS = 3;
    private static final float LR = 0.05f;

    /** The network's parameters and running statistics. */
    private static final class Net implements AutoCloseable {
        final Variable w1, g1, b1, w2, g2, b2, wl, bl;
        final Tensor rm1, rv1, rm2, rv2;
        final List<Variable> params;

        Net(int c, int c2, long seed) {
            w1 = param(seed, -0.5, 0.5, c2, c, 3, 3);
            g1 = param(seed + 1, 0.5, 1.5, c2);
            b1 = param(seed + 2, -0.2, 0.2, c2);
            w2 = param(seed + 3, -0.3, 0.3, c2, c2, 3, 3);
            g2 = param(seed + 4, 0.5, 1.5, c2);
            b2 = param(seed + 5, -0.2, 0.2, c2);
            wl = param(seed + 6, -0.5, 0.5, CLASSES, c2);
            bl = param(seed + 7, -0.1, 0.1, CLASSES);
            params = List.of(w1, g1, b1, w2, g2, b2, wl, bl);
            rm1 = Tensor.zeros(DType.F32, c2);
            rv1 = Tensor.zeros(DType.F32, c2);
            rm2 = Tensor.zeros(DType.F32, c2);
            rv2 = Tensor.zeros(DType.F32, c2);
            rv1.fill(1);
            rv2.fill(1);
        }

        private static Variable param(long seed, double lo, double hi, int... shape) {
            return Variable.parameter(RandomFill.uniform(Tensor.zeros(DType.F32, shape), seed, lo, hi));
        }

        /** conv → BN+ReLU → (conv → BN) + skip → ReLU → max pool → global average pool → reshape → linear → CE. */
        Variable loss(Variable x, Tensor labels) {
            Variable h = Ops.batchNormRelu(Ops.conv2d(x, w1, null, ConvArgs.of(1, 1)), g1, b1, rm1, rv1, 0.1, 1e-5);
            Variable r = Ops.batchNorm(Ops.conv2d(h, w2, null, ConvArgs.of(1, 1)), g2, b2, rm2, rv2, true, 0.1, 1e-5);
            h = Ops.relu(Ops.add(h, r));
            h = Ops.pool2d(h, PoolSpec.of(PoolType.MAX, 2, 2, 0));
            Variable features = Ops.reshape(Ops.globalAvgPool(h), h.dim(0), h.dim(1));
            return Ops.crossEntropy(Ops.linear(features, wl, bl), labels, true, 0.0);
        }

        void zeroGrad() { for (Variable p : params) p.zeroGrad(); }

        /** Every parameter gradient's values, in order. */
        List<double[]> gradients() {
            List<double[]> g = new ArrayList<>();
            for (Variable p : params) g.add(p.grad().toDoubleArray());
            return g;
        }

        void sgd() { for (Variable p : params) Binary.axpby(-LR, p.grad(), 1f, p.value()); }

        List<double[]> state() {
            List<double[]> s = new ArrayList<>();
            for (Variable p : params) s.add(p.value().toDoubleArray());
            for (Tensor t : List.of(rm1, rv1, rm2, rv2)) s.add(t.toDoubleArray());
            return s;
        }

        @Override
        public void close() {
            for (Variable p : params) { p.value().close(); p.releaseGrad(); }
            for (Tensor t : List.of(rm1, rv1, rm2, rv2)) t.close();
        }
    }

    /** What each step gave: its loss and gradients; and the state after the last update. */
    private record Run(double[] losses, List<List<double[]>> gradients, List<double[]> state) {}

    private static Run eager(Net net, Tensor[] xs, Tensor[] labels) {
        double[] losses = new double[STEPS];
        List<List<double[]>> grads = new ArrayList<>();
        for (int t = 0; t < STEPS; t++) {
            net.zeroGrad();
            try (Scope s = Scope.open()) {
                Variable loss = net.loss(Variable.constant(xs[t]), labels[t]);
                loss.backward();
                losses[t] = loss.value().item();
            }
            grads.add(net.gradients());
            net.sgd();
        }
        return new Run(losses, grads, net.state());
    }

    private static Run captured(Net net, Tensor[] xs, Tensor[] labels) {
        double[] losses = new double[STEPS];
        List<List<double[]>> grads = new ArrayList<>();
        try (Tensor x = xs[0].copy(); Tensor y = labels[0].copy()) {
            net.zeroGrad();
            try (CapturedStep step = CapturedStep.capture(() -> net.loss(Variable.constant(x), y))) {
                losses[0] = step.loss().value().item();
                grads.add(net.gradients());
                net.sgd();
                for (int t = 1; t < STEPS; t++) {
                    x.copyFrom(xs[t]);
                    y.copyFrom(labels[t]);
                    net.zeroGrad();
                    losses[t] = step.run();
                    grads.add(net.gradients());
                    net.sgd();
                }
                assertTrue(step.bytes() > 0, "the step holds its tensors");
            }
        }
        return new Run(losses, grads, net.state());
    }

    @Test
    void replaysComputeWhatEagerStepsCompute() {
        qt().withExamples(12).forAll(integers().between(1, 3), integers().between(1, 4), integers().between(2, 5),
                        integers().between(0, 1 << 20))
                .checkAssert((n, c, half, seed) -> {
                    int hw = 2 * half, c2 = c + 1;
                    Tensor[] xs = new Tensor[STEPS], labels = new Tensor[STEPS];
                    for (int t = 0; t < STEPS; t++) {
                        xs[t] = RandomFill.uniform(Tensor.zeros(DType.F32, n, c, hw, hw), seed + 10L * t, -1, 1);
                        labels[t] = Tensor.zeros(DType.I64, n);
                        for (int i = 0; i < n; i++) labels[t].set((i + t + seed) % CLASSES, i);
                    }
                    try (Net a = new Net(c, c2, seed); Net b = new Net(c, c2, seed)) {
                        Run e = eager(a, xs, labels), r = captured(b, xs, labels);
                        assertArrayEquals(e.losses(), r.losses(), 0.0, "losses");
                        for (int t = 0; t < STEPS; t++)
                            for (int p = 0; p < e.gradients().get(t).size(); p++)
                                assertArrayEquals(e.gradients().get(t).get(p), r.gradients().get(t).get(p), 0.0,
                                        "step " + t + ", gradient of parameter " + p);
                        for (int i = 0; i < e.state().size(); i++)
                            assertArrayEquals(e.state().get(i), r.state().get(i), 0.0, "parameter or running statistic " + i);
                    } finally {
                        for (int t = 0; t < STEPS; t++) { xs[t].close(); labels[t].close(); }
                    }
                });
    }

    @Test
    void anOpWithoutAForwardToReplayIsRefusedByName() {
        try (Net net = new Net(1, 2, 3); Tensor x = Tensor.zeros(DType.F32, 1, 1, 4, 4); Tensor y = Tensor.zeros(DType.I64, 1)) {
            // a hand-written op (a plugin's) recorded without its forward computation
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CapturedStep.capture(() -> {
                Variable in = Variable.constant(x);
                Tensor doubled = Scope.alloc(DType.F32, 1, 1, 4, 4);
                Binary.apply(Binary.Op.ADD, x, x, doubled);
                return net.loss(Ops.custom("hand_written", doubled, g -> new Tensor[]{g}, in), y);
            }));
            assertTrue(e.getMessage().contains("'hand_written'"), e.getMessage());
            assertNull(Scope.currentOrNull(), "no scope left open");
            assertNull(net.w1.grad(), "nothing ran backward");
        }
    }

    @Test
    void dropoutDrawsAMaskPerReplaySeed() {
        try (Net net = new Net(2, 3, 8); Tensor x = RandomFill.uniform(Tensor.zeros(DType.F32, 4, 2, 6, 6), 3, -1, 1);
             Tensor y = Tensor.zeros(DType.I64, 4)) {
            for (int i = 0; i < 4; i++) y.set(i % CLASSES, i);
            // the step's losses and gradients with the BN statistics frozen in between: only the mask changes them
            try (CapturedStep step = CapturedStep.capture(() -> {
                Variable h = Ops.dropout(Ops.conv2d(Variable.constant(x), net.w1, null, ConvArgs.of(1, 1)), 0.5, true, 77);
                Variable f = Ops.reshape(Ops.globalAvgPool(h), 4, 3);
                return Ops.crossEntropy(Ops.linear(f, net.wl, net.bl), y, true, 0.0);
            })) {
                double captured = step.loss().value().item();
                double a = step.run(5), a2 = step.run(5), b = step.run(6), c = step.run(), d = step.run();
                assertEquals(a, a2, 0.0, "the same seed draws the same mask");
                assertTrue(a != b && a != captured && c != d, "other seeds draw other masks: " + captured + " " + a + " " + b + " " + c + " " + d);
                // replay seed 5 seeds its (only) dropout op with OpSeeds.of(5, 1): an eager step with that seed agrees
                try (Scope s = Scope.open()) {
                    Variable h = Ops.dropout(Ops.conv2d(Variable.constant(x), net.w1, null, ConvArgs.of(1, 1)), 0.5, true, OpSeeds.of(5, 1));
                    Variable f = Ops.reshape(Ops.globalAvgPool(h), 4, 3);
                    assertEquals(Ops.crossEntropy(Ops.linear(f, net.wl, net.bl), y, true, 0.0).value().item(), a, 0.0,
                            "a replay seeded s draws the masks of an eager step seeded by OpSeeds.of(s, n)");
                }
            }
        }
    }

    @Test
    void aScopeOpenedInsideTheCapturedForwardIsRefused() {
        try (Net net = new Net(1, 2, 5); Tensor x = Tensor.zeros(DType.F32, 1, 1, 4, 4); Tensor y = Tensor.zeros(DType.I64, 1)) {
            assertThrows(IllegalStateException.class, () -> CapturedStep.capture(() -> {
                try (Scope inner = Scope.open()) {
                    return net.loss(Variable.constant(x), y);
                }
            }));
            assertNull(Scope.currentOrNull(), "no scope left open");
        }
    }

    @Test
    void aClosedStepCannotRunAndLeavesNoScope() {
        try (Net net = new Net(2, 2, 4); Tensor x = RandomFill.uniform(Tensor.zeros(DType.F32, 2, 2, 4, 4), 9, -1, 1);
             Tensor y = Tensor.zeros(DType.I64, 2)) {
            CapturedStep step = CapturedStep.capture(() -> net.loss(Variable.constant(x), y));
            assertNull(Scope.currentOrNull(), "capture leaves no scope on the thread");
            double first = step.loss().value().item();
            net.zeroGrad();
            long live = tessera.memory.MemoryStats.liveBytes();
            assertEquals(first, step.run(), 0.0, "same tensors, same parameters, same loss");
            assertNull(Scope.currentOrNull(), "run leaves no scope on the thread");
            for (int i = 0; i < 3; i++) step.run();
            assertEquals(live, tessera.memory.MemoryStats.liveBytes(), "replays allocate no off-heap memory");
            step.close();
            assertThrows(IllegalStateException.class, step::run);
        }
    }
}
