package tessera.layers.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import tessera.autograd.GradMode;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/** Folding batch norm into the preceding Conv2d/Linear leaves the eval-mode output unchanged (float64: 1e-10). */
class BatchNormFoldingTest {
    @Test
    void foldedModelComputesTheSameEvalFunction() {
        ModelSpec spec = ModelSpec.parse("""
                {"name": "bn", "input": [2, 8, 8], "layers": [
                  {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"}, {"type": "ReLU"},
                  {"type": "Residual", "body": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "BatchNorm2d"}], "activation": "relu"},
                  {"type": "Concat", "branches": [[{"type": "Conv2d", "out_channels": 2, "kernel_size": 1}, {"type": "BatchNorm2d"}], {"type": "MaxPool2d", "kernel_size": 3, "stride": 1, "padding": 1}]},
                  {"type": "Flatten"}, {"type": "Linear", "out_features": 5}, {"type": "BatchNorm1d"}]}""");
        try (Model m = Model.build(spec, DType.F64, 11); Tensor x = RandomFill.normal(Tensor.zeros(DType.F64, 3, 2, 8, 8), 5, 0, 1)) {
            // give the batch norms non-trivial statistics and affine parameters
            long seed = 100;
            for (var e : m.buffers().entrySet()) {
                if (e.getKey().endsWith("running_mean")) RandomFill.uniform(e.getValue(), seed++, -0.5, 0.5);
                if (e.getKey().endsWith("running_var")) RandomFill.uniform(e.getValue(), seed++, 0.5, 2);
            }
            for (var e : m.parameters().entrySet()) RandomFill.uniform(e.getValue().value(), seed++, -0.7, 0.7);
            m.eval();
            Model folded = BatchNormFolding.fold(m);
            assertEquals(0, folded.spec().toJson().split("BatchNorm").length - 1, "every BatchNorm should be folded");
            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                double[] a = m.forward(Variable.constant(x)).value().toDoubleArray();
                double[] b = folded.forward(Variable.constant(x)).value().toDoubleArray();
                for (int i = 0; i < a.length; i++) assertTrue(Math.abs(a[i] - b[i]) <= 1e-10 * (1 + Math.abs(a[i])), i + ": " + a[i] + " vs " + b[i]);
            }
            // the folded spec rebuilds a model with the same parameter names and counts
            try (Model rebuilt = Model.build(folded.spec(), DType.F64, 1)) {
                assertEquals(folded.parameters().keySet(), rebuilt.parameters().keySet());
                assertEquals(folded.parameterCount(), rebuilt.parameterCount());
            }
        }
    }
}
