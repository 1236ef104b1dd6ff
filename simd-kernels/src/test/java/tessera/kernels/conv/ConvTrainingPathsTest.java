package tessera.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static tessera.kernels.conv.ConvTestSupport.randomF32;

import org.junit.jupiter.api.Test;

import tessera.kernels.Activation;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * The paths a training step takes through unplanned convolutions: weights packed or transformed once per call into
 * reused per-thread buffers must follow in-place weight updates (an SGD step writes the same tensor), and the
 * batched weight gradient must accumulate correctly over several runs of images.
 */
class ConvTrainingPathsTest {

    @Test
    void unplannedCallsSeeInPlaceWeightUpdates() {
        ConvSpec[] specs = {
                ConvSpec.of(3, 16, 9, 32, 3, 1, 1),   // Winograd forward and input gradient
                ConvSpec.of(3, 8, 11, 24, 3, 2, 1),   // strided: im2col, packed once per call
                ConvSpec.of(2, 8, 7, 20, 1, 2, 0)};   // 1×1 stride 2: im2col
        for (ConvSpec s : specs)
            for (ConvAlgorithm a : ConvTestSupport.algorithms(s)) {
                try (Tensor x = randomF32(1, s.inputShape()); Tensor w = randomF32(2, s.weightShape());
                     Tensor dy = randomF32(3, s.outputShape()); Tensor y = Tensor.zeros(DType.F32, s.outputShape());
                     Tensor dx = Tensor.zeros(DType.F32, s.inputShape())) {
                    Conv2d.forward(s, a, x, w, null, null, y);
                    Conv2d.backwardData(s, a, dy, w, dx);
                    RandomFill.uniform(w, 4, -1, 1); // the "SGD step": same tensor, new values
                    Conv2d.forward(s, a, x, w, null, null, y);
                    Conv2d.backwardData(s, a, dy, w, dx);
                    try (Tensor fresh = w.copy(); ConvPlan plan = ConvPlan.create(s, a, fresh, null, Activation.IDENTITY, 0f);
                         Tensor yPlan = Tensor.zeros(DType.F32, s.outputShape());
                         Tensor dxFresh = Tensor.zeros(DType.F32, s.inputShape())) {
                        plan.execute(x, null, yPlan);
                        Conv2d.backwardData(s, a, dy, fresh, dxFresh);
                        assertArrayEquals(yPlan.toFloatArray(), y.toFloatArray(), a + " forward after a weight update, " + s);
                        assertArrayEquals(dxFresh.toFloatArray(), dx.toFloatArray(), a + " input gradient after a weight update, " + s);
                    }
                }
            }
    }

    @Test
    void batchedWeightGradientAccumulatesOverRunsOfImages() {
        // C·R·S·P·Q = 4608·961 floats exceeds the batched column limit, so each of the 3 images is its own run
        ConvPropertiesTest.checkAll(new ConvSpec(3, 512, 31, 31, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 7);
        // 1152·961 floats per image: runs of 3 images, the last one of 2
        ConvPropertiesTest.checkAll(new ConvSpec(5, 128, 31, 31, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 8);
    }
}
