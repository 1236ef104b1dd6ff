package tessera.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.autograd.CapturedStep;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Training a model by replaying a {@link CapturedStep} gives the parameters, buffers (batch-norm running statistics)
 * and losses of training it eagerly, bit for bit: SGD with momentum over several batches of a residual network with
 * fused batch norm + ReLU, a strided projection shortcut, max pooling, global pooling and a linear head.
 */
class CapturedTrainingTest {
    private static final String SPEC = """
            {"name": "captured", "input": [3, 8, 8], "layers": [
              {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
              {"type": "Residual", "activation": "relu", "body": [
                 {"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
                 {"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}],
               "shortcut": [{"type": "Conv2d", "out_channels": 6, "kernel_size": 1, "stride": 2, "bias": false}, {"type": "BatchNorm2d"}]},
              {"type": "MaxPool2d", "kernel_size": 2, "stride": 2},
              {"type": "GlobalAvgPool"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 5}]}""";
    private static final int STEPS = 4;

    @Test
    void replayedStepsTrainAsEagerSteps() {
        qt().withExamples(5).forAll(integers().between(1, 4), integers().between(0, 1 << 20)).checkAssert((n, seed) -> {
            Tensor[] xs = new Tensor[STEPS], ys = new Tensor[STEPS];
            for (int t = 0; t < STEPS; t++) {
                xs[t] = RandomFill.normal(Tensor.zeros(DType.F32, n, 3, 8, 8), seed + t, 0, 1);
                ys[t] = Tensor.zeros(DType.I64, n);
                for (int i = 0; i < n; i++) ys[t].set((seed + 7 * i + t) % 5, i);
            }
            try (Model eager = Model.build(ModelSpec.parse(SPEC), DType.F32, seed).train();
                 Model replayed = Model.build(ModelSpec.parse(SPEC), DType.F32, seed).train()) {
                double[] eagerLosses = trainEagerly(eager, xs, ys), replayedLosses = trainReplaying(replayed, xs, ys);
                assertArrayEquals(eagerLosses, replayedLosses, 0.0, "losses");
                assertSame(eager.parameters(), replayed.parameters());
                Map<String, Tensor> eb = eager.buffers(), rb = replayed.buffers();
                assertEquals(eb.keySet(), rb.keySet());
                for (String k : eb.keySet()) assertArrayEquals(eb.get(k).toDoubleArray(), rb.get(k).toDoubleArray(), 0.0, k);
            } finally {
                for (int t = 0; t < STEPS; t++) { xs[t].close(); ys[t].close(); }
            }
        });
    }

    private static void assertSame(Map<String, Variable> a, Map<String, Variable> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).value().toDoubleArray(), b.get(k).value().toDoubleArray(), 0.0, k);
    }

    private static Sgd sgd(Model m) { return Sgd.of(List.copyOf(m.parameters().values()), 0.05, 0.9, 1e-4, 0, false); }

    private static double[] trainEagerly(Model model, Tensor[] xs, Tensor[] ys) {
        double[] losses = new double[STEPS];
        Sgd sgd = sgd(model);
        for (int t = 0; t < STEPS; t++) {
            try (Scope s = Scope.open()) {
                sgd.zeroGrad();
                Variable loss = Ops.crossEntropy(model.forward(Variable.constant(xs[t]), new ForwardContext(1)), ys[t], true, 0);
                loss.backward();
                sgd.step();
                losses[t] = loss.value().item();
            }
        }
        sgd.close();
        return losses;
    }

    private static double[] trainReplaying(Model model, Tensor[] xs, Tensor[] ys) {
        double[] losses = new double[STEPS];
        Sgd sgd = sgd(model);
        try (Tensor x = xs[0].copy(); Tensor y = ys[0].copy()) {
            sgd.zeroGrad();
            try (CapturedStep step = CapturedStep.capture(
                    () -> Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(1)), y, true, 0))) {
                sgd.step();
                losses[0] = step.loss().value().item();
                for (int t = 1; t < STEPS; t++) {
                    x.copyFrom(xs[t]);
                    y.copyFrom(ys[t]);
                    sgd.zeroGrad();
                    losses[t] = step.run();
                    sgd.step();
                }
            }
        }
        sgd.close();
        return losses;
    }
}
