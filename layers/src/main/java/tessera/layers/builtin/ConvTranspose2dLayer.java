package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.ConvArgs;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.conv.ConvTransposeSpec;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;
import tessera.memory.DType;

/** Transposed convolution, as torch.nn.ConvTranspose2d: weight [Cin, Cout/groups, R, S], bias [Cout]. */
public final class ConvTranspose2dLayer extends AbstractLayer {
    private final int inChannels, outChannels;
    private final int[] kernel;
    private final ConvArgs args;
    private final Variable weight, bias;

    ConvTranspose2dLayer(int inChannels, int outChannels, int[] kernel, ConvArgs args, boolean hasBias, DType dtype, String init, long seed) {
        super("ConvTranspose2d");
        if (inChannels % args.groups() != 0 || outChannels % args.groups() != 0) {
            throw new IllegalArgumentException("in_channels=" + inChannels + " and out_channels=" + outChannels
                    + " must both be divisible by groups=" + args.groups());
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel.clone();
        this.args = args;
        weight = addParameter("weight", dtype, inChannels, outChannels / args.groups(), kernel[0], kernel[1]);
        WeightInit.weight(weight.value(), init, seed);
        bias = hasBias ? addParameter("bias", dtype, outChannels) : null;
        if (bias != null) WeightInit.bias(bias.value(), init, weight.shape(), seed + 1);
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.convTranspose2d(x, weight, bias, args); }

    private ConvTransposeSpec spec(int[] in) {
        if (in.length != 3 || in[0] != inChannels) throw new ShapeException("ConvTranspose2d", in, "[" + inChannels + ", H, W]");
        return Ops.convTransposeSpec(new int[]{1, in[0], in[1], in[2]}, weight.shape(), args);
    }

    @Override
    public int[] outputShape(int[] in) {
        ConvTransposeSpec s = spec(in);
        return new int[]{outChannels, s.outH(), s.outW()};
    }

    @Override
    public long macs(int[] in) {
        return (long) in[1] * in[2] * inChannels * (outChannels / args.groups()) * kernel[0] * kernel[1];
    }

    /** Provider of {@code ConvTranspose2d}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("ConvTranspose2d", "transposed 2-D convolution (the adjoint of Conv2d), for upsampling",
                    ArgSpec.inferred("in_channels", ArgType.INT, 1, 1 << 16, "input channels (inferred when absent)"),
                    ArgSpec.required("out_channels", ArgType.INT, 1, 1 << 16, 1, 4, "output channels"),
                    ArgSpec.required("kernel_size", ArgType.INTS, 1, 64, 1, 3, "kernel height and width").lengths(1, 2),
                    ArgSpec.withDefault("stride", ArgType.INTS, new int[]{1}, 1, 64, 1, 2, "stride").lengths(1, 2),
                    ArgSpec.withDefault("padding", ArgType.INTS, new int[]{0}, 0, 64, 0, 1, "padding removed from the output: 1, 2 or 4 values").lengths(1, 2, 4),
                    ArgSpec.withDefault("output_padding", ArgType.INTS, new int[]{0}, 0, 63, 0, 0, "extra rows/columns on the bottom/right").lengths(1, 2),
                    ArgSpec.withDefault("dilation", ArgType.INTS, new int[]{1}, 1, 64, 1, 2, "dilation").lengths(1, 2),
                    ArgSpec.withDefault("groups", ArgType.INT, 1, 1, 1 << 16, 1, 1, "channel groups"),
                    ArgSpec.flag("bias", true, "learnable bias"),
                    ArgSpec.choice("init", "default", WeightInit.CHOICES, "weight initialization"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int c = ctx.inputDim(0, 3, "ConvTranspose2d");
            if (a.has("in_channels") && a.getInt("in_channels") != c) {
                throw new ShapeException("ConvTranspose2d", ctx.inputShape(), "[" + a.getInt("in_channels") + ", H, W]");
            }
            int[] op = a.getInts("output_padding", 2);
            ConvTranspose2dLayer l = new ConvTranspose2dLayer(c, a.getInt("out_channels"), a.getInts("kernel_size", 2),
                    Conv2dLayer.convArgs(a, op[0], op[1]), a.getBool("bias"), ctx.dtype(), a.getString("init"), ctx.seed());
            l.outputShape(ctx.inputShape());
            return l;
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            int c = a.has("in_channels") ? a.getInt("in_channels") : 1 + r.nextInt(3);
            int[] p = a.getInts("padding");
            int pmax = 0;
            for (int v : p) pmax = Math.max(pmax, v);
            return new int[]{c, 1 + pmax + r.nextInt(3), 1 + pmax + r.nextInt(3)};
        }
    }
}
