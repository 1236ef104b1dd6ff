package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.memory.Tensor;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/**
 * Every fixture model (random weights, exported by PyTorch 1.13) matches PyTorch's eval-mode output.
 * Tolerance: max |y − y_torch| / (1 + |y_torch|) ≤ 1e-4 (float32 accumulation order differs from PyTorch's;
 * Winograd F(4×4,3×3) may be chosen by AUTO, whose error on these sizes stays below this bound).
 */
class OnnxParityTest {
    static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"op_conv_group_dilation", "op_conv_asym", "op_conv_depthwise", "op_convtranspose", "op_convtranspose_group",
            "op_maxpool_ceil", "op_maxpool_dilation", "op_avgpool_pad_exclude", "op_avgpool_ceil_include", "op_lppool",
            "op_global_pools", "op_batchnorm", "op_lrn", "op_activations", "op_mish_decomposed", "op_prelu", "op_softmax",
            "op_softmax_opset11", "op_gemm", "op_matmul", "op_arith", "op_reshape_chain", "op_transpose_slice", "op_pad",
            "op_reduce_mean", "op_concat_gather", "op_maxunpool", "op_unary", "op_binary", "op_reduce", "op_gelu", "op_l2norm",
            "op_lppool2d", "op_convtranspose_output_shape",
            "lenet5", "resnet_tiny", "inception_tiny", "mobilenetv2_tiny", "se_block", "fcn_tiny", "op_newops", "lraspp_tiny", "convnext_block"})
    void matchesPyTorch(String name) {
        check(name, SessionOptions.DEFAULT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_tiny", "mobilenetv2_tiny", "fcn_tiny", "op_conv_group_dilation", "lraspp_tiny", "convnext_block"})
    void matchesPyTorchWithEveryConvAlgorithm(String name) {
        for (ConvAlgorithm a : new ConvAlgorithm[] {ConvAlgorithm.DIRECT, ConvAlgorithm.IM2COL}) {
            check(name, SessionOptions.DEFAULT.withAlgorithm(a));
        }
    }

    /**
     * Batches above the matrix-vector limit run fully connected layers as a GEMM with weights packed at plan time:
     * the fixture's samples repeated to a batch of 7 give the fixture's outputs row by row.
     */
    @ParameterizedTest
    @ValueSource(strings = {"op_gemm", "lenet5"})
    void largerBatchesMatchPyTorchRowByRow(String name) {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes(name + ".onnx"), name, SessionOptions.DEFAULT);
             Tensor x = Fixtures.npy(name + ".input.npy"); Tensor want = Fixtures.npy(name + ".output.npy")) {
            int rows = x.dim(0), big = 7;
            int[] shape = x.shape().clone();
            shape[0] = big;
            try (Tensor xb = Tensor.zeros(shape)) {
                for (int r = 0; r < big; r++) xb.narrow(0, r, 1).copyFrom(x.narrow(0, r % rows, 1));
                try (Tensor got = s.run(xb)) {
                    for (int r = 0; r < big; r++) {
                        try (Tensor g = got.narrow(0, r, 1).copy(); Tensor w = want.narrow(0, r % rows, 1).copy()) {
                            double err = Fixtures.maxRelError(g, w);
                            assertTrue(err <= TOL, name + " row " + r + " of a batch of " + big + ": max relative error " + err);
                        }
                    }
                }
            }
        }
    }

    private static void check(String name, SessionOptions options) {
        try (InferenceSession s = InferenceSession.load(Fixtures.bytes(name + ".onnx"), name, options);
             Tensor x = Fixtures.npy(name + ".input.npy");
             Tensor want = Fixtures.npy(name + ".output.npy");
             Tensor got = s.run(x)) {
            assertArrayEquals(want.shape(), got.shape(), name + ": output shape");
            double err = Fixtures.maxRelError(got, want);
            assertTrue(err <= TOL, name + " (" + options.algorithm() + "): max relative error " + err + " > " + TOL);
            // a batch of one (the first sample) gives the first row of the batched output
            if (x.dim(0) > 1) {
                try (Tensor x0 = x.narrow(0, 0, 1).copy(); Tensor y0 = s.run(x0)) {
                    double e0 = Fixtures.maxRelError(y0, want.narrow(0, 0, 1).copy());
                    assertTrue(e0 <= TOL, name + ": batch-1 max relative error " + e0);
                }
            }
        }
    }
}
