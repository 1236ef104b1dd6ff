package tessera.bench;

import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * The pieces shared by the training-step benchmarks and probes ({@link TrainingStepBench}, {@link ResNet18StepBench},
 * {@link TrainStepCpuTimeProbe}): seeded inputs, a forward pass without a graph, and one training step.
 */
final class TrainingRuns {
    private TrainingRuns() {}

    /** [n, 3, hw, hw] standard-normal images (seed 2). */
    static Tensor images(int n, int hw) {
        return RandomFill.normal(Tensor.zeros(DType.F32, n, 3, hw, hw), 2, 0, 1);
    }

    /** [n] class labels {@code (i·stride) mod classes}. */
    static Tensor labels(int n, int classes, long stride) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) l[i] = (i * stride) % classes;
        return Tensor.ofLongs(l, n);
    }

    /** The model's forward pass with gradients off (no graph recorded); returns one output value. */
    static double forward(Model model, Tensor x) {
        try (tessera.autograd.Scope s = tessera.autograd.Scope.open(); GradMode off = GradMode.off()) {
            return model.forward(Variable.constant(x), new ForwardContext(1)).value().getDouble(0, 0);
        }
    }

    /**
     * One step: zero the gradients, forward, cross-entropy, backward, and with an optimizer its update (sgd null:
     * forward + backward only); returns the loss.
     */
    static double step(Model model, Sgd sgd, Tensor x, Tensor labels) {
        try (tessera.autograd.Scope s = tessera.autograd.Scope.open()) {
            if (sgd != null) sgd.zeroGrad();
            else model.zeroGrad();
            Variable loss = Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(1)), labels, true, 0);
            loss.backward();
            if (sgd != null) sgd.step();
            return loss.value().getDouble(0);
        }
    }
}
