package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * 2-D transposed convolution (PyTorch {@code ConvTranspose2d}, see {@link ConvTransposeSpec}). Computed as the input
 * gradient of the adjoint {@link Conv2d} convolution (Cout → Cin), so it runs on the backward-data path of the
 * algorithm {@link ConvAlgorithm#AUTO} picks (Winograd for 3×3 stride 1, im2col/col2im for strided, direct for
 * grouped). Layouts: {@code x [N, Cin, H, W]}, {@code w [Cin, Cout/g, R, S]}, {@code bias [Cout]} (nullable),
 * {@code y [N, Cout, OH, OW]}; F32 fast, F64 reference; outputs overwritten.
 */
public final class ConvTranspose2d {
    private ConvTranspose2d() {}

    public static void forward(ConvTransposeSpec s, Tensor x, Tensor w, Tensor bias, Tensor y) {
        String op = "ConvTranspose2d.forward";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, x);
        ConvChecks.tensor4(op, "x", x, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        ConvChecks.tensor4(op, "w", w, d, s.inChannels(), s.outChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.vector(op, "bias", bias, d, s.outChannels());
        ConvChecks.tensor4(op, "y", y, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ConvGeom g = s.adjointGeom();
        if (d == DType.F64) {
            ConvReference.backwardData(g, x.segment(), x.offset(), w.segment(), w.offset(), y.segment(), y.offset());
        } else {
            ConvAlgorithm alg = Conv2d.resolveBackwardData(ConvAlgorithm.AUTO, g);
            Conv2d.backwardDataAutoF32(alg, g, x.segment(), x.offset(), w.segment(), w.offset(), y.segment(), y.offset(), null, 0);
        }
        if (bias != null) addBias(d, y, bias, s.batch(), s.outChannels(), s.outH() * s.outW());
    }

    public static void backwardData(ConvTransposeSpec s, Tensor dy, Tensor w, Tensor dx) {
        String op = "ConvTranspose2d.backwardData";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, dy);
        ConvChecks.tensor4(op, "dy", dy, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ConvChecks.tensor4(op, "w", w, d, s.inChannels(), s.outChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.tensor4(op, "dx", dx, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        ConvGeom g = s.adjointGeom();
        if (d == DType.F64) {
            ConvReference.forward(g, dy.segment(), dy.offset(), w.segment(), w.offset(), null, 0, dx.segment(), dx.offset());
            return;
        }
        ConvAlgorithm alg = ConvAlgorithmSelector.resolveForward(ConvAlgorithm.AUTO, g);
        Conv2d.forwardF32(alg, g, dy.segment(), dy.offset(), w.segment(), w.offset(), null, null, 0, null, 0,
                ActivationFn.IDENTITY, dx.segment(), dx.offset());
    }

    /** dw [Cin, Cout/g, R, S] overwritten; dbias [Cout] = Σ dy (nullable). */
    public static void backwardWeights(ConvTransposeSpec s, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        String op = "ConvTranspose2d.backwardWeights";
        ConvChecks.notNull(op, "spec", s);
        DType d = ConvChecks.floatType(op, x);
        ConvChecks.tensor4(op, "x", x, d, s.batch(), s.inChannels(), s.inH(), s.inW());
        ConvChecks.tensor4(op, "dy", dy, d, s.batch(), s.outChannels(), s.outH(), s.outW());
        ConvChecks.tensor4(op, "dw", dw, d, s.inChannels(), s.outChannels() / s.groups(), s.kernelH(), s.kernelW());
        ConvChecks.vector(op, "dbias", dbias, d, s.outChannels());
        ConvGeom g = s.adjointGeom();
        // the adjoint convolution has input dy and output gradient x
        if (d == DType.F64) {
            ConvReference.backwardWeights(g, dy.segment(), dy.offset(), x.segment(), x.offset(), dw.segment(), dw.offset(), null, 0);
        } else {
            ConvAlgorithm alg = Conv2d.resolveBackwardWeights(ConvAlgorithm.AUTO, g);
            Conv2d.backwardWeightsF32(alg, g, dy.segment(), dy.offset(), x.segment(), x.offset(), dw.segment(), dw.offset(), null, 0);
        }
        if (dbias != null) {
            int plane = s.outH() * s.outW();
            for (int k = 0; k < s.outChannels(); k++) {
                double sum = 0;
                for (int n = 0; n < s.batch(); n++) {
                    long o = dy.offset() + ((long) n * s.outChannels() + k) * plane;
                    if (d == DType.F32) sum += F32ConvDirect.planeSum(dy.segment(), o, plane);
                    else for (int i = 0; i < plane; i++) sum += dy.segment().getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, o + i);
                }
                dbias.set(sum, k);
            }
        }
    }

    private static void addBias(DType d, Tensor y, Tensor bias, int n, int k, int plane) {
        MemorySegment ys = y.segment(), bs = bias.segment();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) {
                long o = y.offset() + ((long) i * k + c) * plane;
                if (d == DType.F32) {
                    ConvEpilogue.apply(ys, o, plane, bs.getAtIndex(ValueLayout.JAVA_FLOAT, bias.offset() + c), null, 0,
                            ActivationFn.IDENTITY);
                } else {
                    double b = bs.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, bias.offset() + c);
                    for (int j = 0; j < plane; j++)
                        ys.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, o + j, ys.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, o + j) + b);
                }
            }
    }
}
