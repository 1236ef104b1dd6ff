package tessera.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.zoo.inspect.ModelSummary;
import tessera.zoo.models.Zoo;
import tessera.zoo.transform.FullyConvolutional;

class ZooModelsTest {
    /** Published parameter counts (torchvision for all but SE-ResNet-50, which is timm's seresnet50), 1000 classes. */
    @ParameterizedTest
    @CsvSource({"alexnet,61100840", "vgg11,132863336", "vgg13,133047848", "vgg16,138357544", "vgg19,143667240",
            "vgg11-bn,132868840", "vgg16-bn,138365992", "vgg19-bn,143678248", "googlenet,6624904",
            "resnet18,11689512", "resnet34,21797672", "resnet50,25557032", "resnet101,44549160", "resnet152,60192808",
            "resnext50-32x4d,25028904", "se-resnet50,28088024"})
    void parameterCountsMatchPublishedFigures(String name, long expected) {
        try (Model m = Model.build(Zoo.spec(name, 1000, null), DType.F32, 1)) {
            assertEquals(expected, m.parameterCount(), name);
        }
    }

    @Test
    void lenet5HasSixtyOneThousandParameters() {
        try (Model m = Model.build(Zoo.lenet5(10, new int[]{1, 28, 28}), DType.F32, 1)) {
            assertEquals(61706, m.parameterCount());
        }
    }

    /** Every zoo model gives [N, classes] on a random batch (small inputs keep the test fast). */
    @ParameterizedTest
    @CsvSource({"lenet5,1,28", "alexnet,3,64", "alexnet-cifar,3,32", "vgg11,3,32", "vgg16-bn,3,32", "vgg-cifar,3,32",
            "nin-cifar,3,32", "googlenet,3,64", "resnet18,3,32", "resnet34,3,32", "resnet50,3,32", "resnet50-v1,3,32",
            "resnet18-v2,3,32", "resnet50-v2,3,32", "resnext50-32x4d,3,32", "se-resnet50,3,32", "resnet101,3,32"})
    void outputShapeOnARandomBatch(String name, int c, int hw) {
        try (Model m = Model.build(Zoo.spec(name, 7, new int[]{c, hw, hw}), DType.F32, 2);
             Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, 2, c, hw, hw), 3, 0, 1);
             Scope s = Scope.open(); GradMode off = GradMode.off()) {
            m.eval();
            Variable y = m.forward(Variable.constant(x));
            assertArrayEquals(new int[]{2, 7}, y.shape(), name);
            for (double v : y.value().toDoubleArray()) assertTrue(Double.isFinite(v), name + " produced " + v);
        }
    }

    /** One SGD step on a repeated batch lowers the loss of each small model. */
    @ParameterizedTest
    @CsvSource({"lenet5,1,28", "alexnet-cifar,3,32", "nin-cifar,3,32", "vgg-cifar,3,32", "resnet18,3,32"})
    void oneTrainingStepReducesTheLoss(String name, int c, int hw) {
        try (Model m = Model.build(Zoo.spec(name, 10, new int[]{c, hw, hw}), DType.F32, 4);
             Tensor x = RandomFill.normal(Tensor.zeros(DType.F32, 8, c, hw, hw), 5, 0, 1);
             Tensor labels = Tensor.ofLongs(new long[]{0, 1, 2, 3, 4, 5, 6, 7}, 8);
             Sgd sgd = Sgd.of(List.copyOf(m.parameters().values()), 0.01)) {
            m.train();
            double before = 0, after = 0;
            for (int step = 0; step < 3; step++) {
                try (Scope s = Scope.open()) {
                    sgd.zeroGrad();
                    Variable loss = Ops.crossEntropy(m.forward(Variable.constant(x), new ForwardContext(0)), labels, true, 0);
                    loss.backward();
                    sgd.step();
                    if (step == 0) before = loss.value().getDouble(0);
                    after = loss.value().getDouble(0);
                }
            }
            assertTrue(after < before, name + ": loss " + before + " -> " + after);
        }
    }

    @Test
    void summaryArithmeticForLenet() {
        try (Model m = Model.build(Zoo.lenet5(10, new int[]{1, 28, 28}), DType.F32, 1)) {
            ModelSummary s = ModelSummary.of(m);
            ModelSummary.Row conv1 = s.rows().get(0);
            assertArrayEquals(new int[]{6, 28, 28}, conv1.outputShape());        // (28 − 5 + 2·2)/1 + 1
            assertEquals(6 * 5 * 5 * 1 + 6, conv1.parameters());                  // F·F·D·K + K
            assertEquals(6L * 25 * 28 * 28, conv1.macs());
            assertArrayEquals(new int[]{5, 5}, conv1.receptiveField());
            ModelSummary.Row conv2 = s.rows().get(3);
            assertArrayEquals(new int[]{16, 10, 10}, conv2.outputShape());
            assertArrayEquals(new int[]{14, 14}, conv2.receptiveField());        // 5 + 1·1 (pool) + 4·2
            assertEquals(61706, s.totalParameters());
        }
    }

    @Test
    void fullyConvolutionalFormGivesIdenticalScoresAndAScoreMap() {
        ModelSpec spec = ModelSpec.parse("""
                {"name": "fc", "input": [1, 12, 12], "layers": [
                  {"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
                  {"type": "Flatten"}, {"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Linear", "out_features": 3}]}""");
        try (Model m = Model.build(spec, DType.F64, 9); Tensor x = RandomFill.normal(Tensor.zeros(DType.F64, 2, 1, 12, 12), 1, 0, 1);
             Tensor big = RandomFill.normal(Tensor.zeros(DType.F64, 1, 1, 20, 20), 2, 0, 1);
             Scope s = Scope.open(); GradMode off = GradMode.off()) {
            m.eval();
            Model fcn = FullyConvolutional.convert(m, new int[]{1, 20, 20});
            double[] a = m.forward(Variable.constant(x)).value().toDoubleArray();
            Variable y = fcn.forward(Variable.constant(x));
            assertArrayEquals(new int[]{2, 3, 1, 1}, y.shape());
            assertArrayEquals(a, y.value().toDoubleArray(), 1e-12);
            assertArrayEquals(new int[]{1, 3, 5, 5}, fcn.forward(Variable.constant(big)).shape());   // ((20−2)/2 − 5 + 1) = 5
        }
    }

    @Test
    void unknownModelNameListsTheKnownOnes() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Zoo.spec("resnet19", 10, null));
        assertTrue(e.getMessage().contains("resnet18"), e.getMessage());
    }

}
