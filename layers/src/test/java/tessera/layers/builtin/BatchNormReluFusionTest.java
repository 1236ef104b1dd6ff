package tessera.layers.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * In training mode a Sequential runs BatchNorm2d followed by ReLU as the fused op, and that changes nothing: the
 * output, the input and parameter gradients and the running statistics have the same bits as batch norm and ReLU
 * recorded as two ops.
 */
class BatchNormReluFusionTest {
    @Test
    void fusedPairGivesTheUnfusedBits() {
        ModelSpec spec = ModelSpec.parse("""
                {"name": "bn-relu", "input": [5, 7, 9], "layers": [{"type": "BatchNorm2d"}, {"type": "ReLU"}]}""");
        try (Model m = Model.build(spec, DType.F32, 3).train();
             Tensor x = RandomFill.uniform(Tensor.zeros(DType.F32, 4, 5, 7, 9), 1, -2, 3);
             Tensor g = RandomFill.uniform(Tensor.zeros(DType.F32, 4, 5, 7, 9), 2, -1, 1);
             Tensor gamma = RandomFill.uniform(Tensor.zeros(DType.F32, 5), 3, 0.5, 1.5);
             Tensor beta = RandomFill.uniform(Tensor.zeros(DType.F32, 5), 4, -1, 1);
             Tensor rm = Tensor.zeros(DType.F32, 5); Tensor rv = Tensor.zeros(DType.F32, 5)) {
            BatchNormLayer bn = (BatchNormLayer) m.root().children().get("0");
            bn.gamma().value().copyFrom(gamma);
            bn.beta().value().copyFrom(beta);
            rv.fill(1);
            Variable gammaRef = Variable.parameter(gamma), betaRef = Variable.parameter(beta);
            try (Scope s = Scope.open()) {
                Variable xm = Variable.parameter(x.copy()), xr = Variable.parameter(x.copy());
                Variable ym = m.forward(xm);
                assertEquals("batch_norm_relu", ym.producer().op(), "the Sequential should have fused the pair");
                Variable yr = Ops.relu(Ops.batchNorm(xr, gammaRef, betaRef, rm, rv, true, 0.1, 1e-5));
                assertArrayEquals(yr.value().toFloatArray(), ym.value().toFloatArray(), "y");
                ym.backward(g);
                yr.backward(g);
                assertArrayEquals(xr.grad().toFloatArray(), xm.grad().toFloatArray(), "dx");
                assertArrayEquals(gammaRef.grad().toFloatArray(), bn.gamma().grad().toFloatArray(), "dgamma");
                assertArrayEquals(betaRef.grad().toFloatArray(), bn.beta().grad().toFloatArray(), "dbeta");
                assertArrayEquals(rm.toFloatArray(), bn.runningMean().toFloatArray(), "running mean");
                assertArrayEquals(rv.toFloatArray(), bn.runningVar().toFloatArray(), "running var");
                xm.value().close();
                xr.value().close();
            }
            m.eval();
            try (Scope s = Scope.open()) {
                assertEquals("relu", m.forward(Variable.constant(x)).producer().op(), "eval mode is not fused");
            }
        }
    }
}
