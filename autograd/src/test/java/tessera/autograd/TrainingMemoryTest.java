package tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import tessera.kernels.eltwise.Binary;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.MemoryStats;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * 200 SGD steps of a small conv net leave off-heap usage flat: after 10 warm-up steps (workspaces reach their
 * size), live off-heap bytes may not grow by more than 256 KiB over the next 190 steps. One step's activations
 * and gradients are about 600 KiB here, so leaking even one step's tensors in every step would exceed the bound
 * by two orders of magnitude.
 */
class TrainingMemoryTest {
    @Test
    void offHeapUsageIsFlatAcrossSteps() {
        Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, 16, 1, 16, 16), 1, 0, 1);
        long[] l = new long[16];
        for (int i = 0; i < 16; i++) l[i] = i % 10;
        Tensor labels = Tensor.ofLongs(l, 16);
        Variable w1 = Variable.parameter(RandomFill.uniform(Tensor.zeros(DType.F32, 8, 1, 3, 3), 2, -0.3, 0.3), "w1");
        Variable b1 = Variable.parameter(Tensor.zeros(DType.F32, 8), "b1");
        Variable w2 = Variable.parameter(RandomFill.uniform(Tensor.zeros(DType.F32, 10, 8 * 8 * 8), 3, -0.05, 0.05), "w2");
        Variable b2 = Variable.parameter(Tensor.zeros(DType.F32, 10), "b2");
        List<Variable> params = List.of(w1, b1, w2, b2);
        long afterWarmup = 0;
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 200; step++) {
            try (Scope s = Scope.open()) {
                Variable h = Ops.relu(Ops.conv2d(Variable.constant(x), w1, b1, ConvArgs.of(1, 1)));
                h = Ops.pool2d(h, PoolSpec.of(PoolType.MAX, 2, 2, 0));
                Variable logits = Ops.linear(Ops.flatten(h, 1), w2, b2);
                Variable loss = Ops.crossEntropy(logits, labels, true, 0);
                for (Variable p : params) p.zeroGrad();
                loss.backward();
                for (Variable p : params) Binary.axpby(-0.05f, p.grad(), 1f, p.value());
                if (step == 0) firstLoss = loss.value().getDouble(0);
                lastLoss = loss.value().getDouble(0);
            }
            if (step == 9) afterWarmup = MemoryStats.liveBytes();
        }
        long growth = MemoryStats.liveBytes() - afterWarmup;
        assertTrue(growth <= 256 * 1024, "off-heap grew by " + growth + " bytes over 190 steps");
        assertTrue(lastLoss < firstLoss, "training should reduce the loss on a repeated batch: " + firstLoss + " -> " + lastLoss);
    }
}
