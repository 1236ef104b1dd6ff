package tessera.bench;

import tessera.autograd.CapturedStep;
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
 * {@link TrainStepCpuTimeProbe}, {@link TrainStepHeapProbe}, {@link TrainStepProfileProbe}): the probes' networks by
 * name, seeded inputs, SGD with momentum, a forward pass without a graph, and one training step.
 */
final class TrainingRuns {
    private TrainingRuns() {}

    /** The probes' network name for {@link TrainingStepBench}'s network (any other name is a zoo model). */
    static final String SMALL_RESNET = "small-resnet";

    /** {@link TrainingStepBench}'s network for {@link #SMALL_RESNET}, else the zoo model with 1000 classes. */
    static tessera.layers.ModelSpec spec(String name) {
        return name.equals(SMALL_RESNET) ? tessera.layers.ModelSpec.parse(TrainingStepBench.RESNET_STYLE)
                : tessera.zoo.models.Zoo.spec(name, 1000, null);
    }

    /** Input height and width of the network {@code name}: 32 for the small ResNet, 224 for zoo models. */
    static int imageSize(String name) { return name.equals(SMALL_RESNET) ? 32 : 224; }

    /** Classes of the network {@code name}: 10 for the small ResNet, 1000 for zoo models. */
    static int classes(String name) { return name.equals(SMALL_RESNET) ? 10 : 1000; }

    /** SGD with momentum 0.9 and learning rate 0.01 over all of the model's parameters (the benchmarks' optimizer). */
    static Sgd sgd(Model model) {
        return Sgd.of(java.util.List.copyOf(model.parameters().values()), 0.01, 0.9, 0, 0, false);
    }

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

    /** The model's forward pass recording the graph, and the cross-entropy loss, without a backward; returns the loss. */
    static double recordedForward(Model model, Tensor x, Tensor labels) {
        try (tessera.autograd.Scope s = tessera.autograd.Scope.open()) {
            return Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(1)), labels, true, 0).value().getDouble(0);
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

    /**
     * The forward + loss of {@link #step}, captured ({@link CapturedStep}): the capture runs it once (gradients zeroed
     * first); {@link #replay} runs it again on the tensors' current values.
     */
    static CapturedStep capture(Model model, Tensor x, Tensor labels) {
        model.zeroGrad();
        return CapturedStep.capture(() -> Ops.crossEntropy(model.forward(Variable.constant(x), new ForwardContext(1)), labels, true, 0));
    }

    /** {@link #step} by a captured step: zero the gradients, forward + backward, and with an optimizer its update. */
    static double replay(CapturedStep captured, Model model, Sgd sgd) {
        if (sgd != null) sgd.zeroGrad();
        else model.zeroGrad();
        double loss = captured.run();
        if (sgd != null) sgd.step();
        return loss;
    }
}
