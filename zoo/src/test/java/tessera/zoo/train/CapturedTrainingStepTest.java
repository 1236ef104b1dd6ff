package tessera.zoo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tessera.layers.Model;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.zoo.data.BatchLoader;
import tessera.zoo.models.Specs;
import tessera.zoo.models.Zoo;

/**
 * The trainer's step replays a captured step for every batch of the first batch's shape and runs the others eagerly;
 * either way it trains as eager steps do, bit for bit (losses, correct counts, parameters, batch-norm statistics),
 * dropout masks included. A model it cannot capture (a plugin layer's {@code Ops.custom} op without a forward
 * computation) runs eagerly, and the refused capture leaves no trace.
 */
class CapturedTrainingStepTest {
    private static final TrainConfig ADAM = new TrainConfig(1, 8, "adam", 1e-3, 1e-4, "none", 0.1,
            BatchLoader.Augmentation.NONE, 0, 1, null, false);

    /** Batches of 8, 8, 8 and a short one of 3 (the last batch of an epoch). */
    private static final int[] BATCHES = {8, 8, 8, 3, 8};

    private static double[][] train(Model model, boolean capture, boolean expectReplays) {
        double[][] results = new double[BATCHES.length][];
        try (Trainer.TrainingStep step = new Trainer.TrainingStep(model, ADAM, capture)) {
            for (int b = 0; b < BATCHES.length; b++) {
                int n = BATCHES[b];
                try (Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, n, 1, 28, 28), 100 + b, 0, 1);
                     Tensor y = Tensor.zeros(DType.I64, n)) {
                    for (int i = 0; i < n; i++) y.set((i * 3 + b) % 10, i);
                    results[b] = step.run(x, y, 1000 + b).clone();
                }
                assertEquals(expectReplays, step.replays(), "after batch " + b);
            }
        }
        return results;
    }

    private static void assertSameModels(Model a, Model b) {
        for (Map.Entry<String, tessera.autograd.Variable> e : a.parameters().entrySet())
            assertArrayEquals(e.getValue().value().toDoubleArray(), b.parameters().get(e.getKey()).value().toDoubleArray(), 0.0, e.getKey());
        for (Map.Entry<String, Tensor> e : a.buffers().entrySet())
            assertArrayEquals(e.getValue().toDoubleArray(), b.buffers().get(e.getKey()).toDoubleArray(), 0.0, e.getKey());
    }

    @Test
    void replayedAndEagerStepsTrainAlike() {
        try (Model eager = Model.build(Zoo.lenet5Bn(10, new int[]{1, 28, 28}), DType.F32, 5).train();
             Model replayed = Model.build(Zoo.lenet5Bn(10, new int[]{1, 28, 28}), DType.F32, 5).train()) {
            double[][] e = train(eager, false, false), r = train(replayed, true, true);
            for (int b = 0; b < BATCHES.length; b++) assertArrayEquals(e[b], r[b], 0.0, "batch " + b + ": loss, correct");
            assertSameModels(eager, replayed);
        }
    }

    /** A plugin layer y = 2x recorded with {@code Ops.custom} and no forward computation: a capture refuses it. */
    private static final class DoubledByHand extends tessera.layers.AbstractLayer {
        DoubledByHand() { super("DoubledByHand"); }

        @Override
        public tessera.autograd.Variable forward(tessera.autograd.Variable x, tessera.layers.ForwardContext context) {
            Tensor y = tessera.autograd.Scope.alloc(x.dtype(), x.shape());
            tessera.kernels.eltwise.Binary.apply(tessera.kernels.eltwise.Binary.Op.ADD, x.value(), x.value(), y);
            return tessera.autograd.Ops.custom("doubled_by_hand", y, g -> {
                Tensor dx = tessera.autograd.Scope.alloc(g.dtype(), g.shape());
                tessera.kernels.eltwise.Binary.apply(tessera.kernels.eltwise.Binary.Op.ADD, g, g, dx);
                return new Tensor[]{dx};
            }, x);
        }

        @Override
        public int[] outputShape(int[] in) { return in.clone(); }
    }

    /** Conv → BN → ReLU → flatten → linear, then the plugin layer (the refused capture has run the BN first). */
    private static Model withPlugin() {
        var spec = new tessera.layers.ModelSpec("bn-plugin", new int[]{1, 28, 28}, List.of(
                Specs.conv(4, 3, 2, 1, false), Specs.bn(), Specs.relu(), Specs.flatten(), Specs.linear(10)));
        Model base = Model.build(spec, DType.F32, 6);
        return Model.of(spec, new tessera.layers.builtin.SequentialLayer(List.of(base.root(), new DoubledByHand())), DType.F32).train();
    }

    @Test
    void aModelItCannotCaptureRunsEagerlyAndTheRefusedCaptureLeavesNoTrace() {
        try (Model eager = withPlugin(); Model refused = withPlugin()) {
            double[][] e = train(eager, false, false), r = train(refused, true, false);
            for (int b = 0; b < BATCHES.length; b++) assertArrayEquals(e[b], r[b], 0.0, "batch " + b + ": loss, correct");
            assertSameModels(eager, refused);
        }
        assertFalse(tessera.autograd.Scope.capturing());
    }

    @Test
    void aModelWithDropoutIsReplayedWithTheEagerStepsMasks() {
        var spec = new tessera.layers.ModelSpec("bn-dropout", new int[]{1, 28, 28}, List.of(
                Specs.conv(4, 3, 2, 1, false), Specs.bn(), Specs.relu(), Specs.dropout(0.2),
                Specs.flatten(), Specs.dropout(0.3), Specs.linear(10)));
        try (Model eager = Model.build(spec, DType.F32, 6).train(); Model replayed = Model.build(spec, DType.F32, 6).train()) {
            double[][] e = train(eager, false, false), r = train(replayed, true, true);
            for (int b = 0; b < BATCHES.length; b++) assertArrayEquals(e[b], r[b], 0.0, "batch " + b + ": loss, correct");
            assertSameModels(eager, replayed);
        }
    }
}
