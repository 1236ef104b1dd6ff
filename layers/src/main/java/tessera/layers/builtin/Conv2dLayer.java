package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.ConvArgs;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.autograd.GradMode;
import tessera.autograd.Scope;
import tessera.kernels.Activation;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvPlan;
import tessera.kernels.conv.ConvSpec;
import tessera.memory.Tensor;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;
import tessera.memory.DType;

/** 2-D convolution (cross-correlation), as torch.nn.Conv2d: weight [K, C/groups, R, S], bias [K]. */
public final class Conv2dLayer extends AbstractLayer {
    private final int inChannels, outChannels, groups;
    private final int[] kernel;
    private final ConvArgs args;
    private final Variable weight, bias;

    public Conv2dLayer(int inChannels, int outChannels, int[] kernel, ConvArgs args, boolean hasBias, DType dtype, String init, long seed) {
        super("Conv2d");
        if (inChannels % args.groups() != 0 || outChannels % args.groups() != 0) {
            throw new IllegalArgumentException("in_channels=" + inChannels + " and out_channels=" + outChannels
                    + " must both be divisible by groups=" + args.groups());
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.groups = args.groups();
        this.kernel = kernel.clone();
        this.args = args;
        weight = addParameter("weight", dtype, outChannels, inChannels / groups, kernel[0], kernel[1]);
        WeightInit.weight(weight.value(), init, seed);
        if (hasBias) {
            bias = addParameter("bias", dtype, outChannels);
            WeightInit.bias(bias.value(), init, weight.shape(), seed + 1);
        } else {
            bias = null;
        }
    }

    public Variable weight() { return weight; }
    public Variable bias() { return bias; }
    public ConvArgs convArgs() { return args; }
    public int[] kernel() { return kernel.clone(); }
    public int inChannels() { return inChannels; }
    public int outChannels() { return outChannels; }

    /**
     * Training, or recording a graph: the differentiable op. Eval mode without recording (inference): a cached
     * {@link ConvPlan} with pre-packed / Winograd-transformed weights, built on first use per input size and
     * dropped whenever the training mode is switched (so weights changed in training are picked up).
     */
    @Override
    public Variable forward(Variable x, ForwardContext context) {
        if (isTraining() || GradMode.isEnabled() || x.dtype() != DType.F32 || Scope.capturing()) return Ops.conv2d(x, weight, bias, args);
        ConvSpec s = Ops.convSpec(x.shape(), weight.shape(), args);
        ConvPlan plan = evalPlan(s);
        Tensor y = Scope.alloc(DType.F32, s.batch(), s.outChannels(), s.outH(), s.outW());
        plan.execute(x.value(), null, y);
        return Variable.constant(y);
    }

    private synchronized ConvPlan evalPlan(ConvSpec s) {
        if (plan == null || plan.spec().inH() != s.inH() || plan.spec().inW() != s.inW()) {
            if (plan != null) plan.close();
            plan = ConvPlan.create(s, ConvAlgorithm.AUTO, weight.value(), bias == null ? null : bias.value(), Activation.IDENTITY, 0f);
        }
        return plan;
    }

    private ConvPlan plan;

    @Override
    public synchronized void setTraining(boolean training) {
        super.setTraining(training);
        if (plan != null) {
            plan.close();
            plan = null;
        }
    }

    @Override
    public synchronized void close() {
        setTraining(isTraining());
        super.close();
    }

    ConvSpec spec(int[] in) {
        if (in.length != 3 || in[0] != inChannels) {
            throw new ShapeException("Conv2d", in, "[" + inChannels + ", H, W]");
        }
        return Ops.convSpec(new int[]{1, in[0], in[1], in[2]}, weight.shape(), args);
    }

    @Override
    public int[] outputShape(int[] in) {
        ConvSpec s = spec(in);
        return new int[]{outChannels, s.outH(), s.outW()};
    }

    @Override
    public long macs(int[] in) {
        ConvSpec s = spec(in);
        return (long) outChannels * (inChannels / groups) * kernel[0] * kernel[1] * s.outH() * s.outW();
    }

    @Override
    public int[] window() { return new int[]{kernel[0], kernel[1], args.strideH(), args.strideW(), args.dilationH(), args.dilationW()}; }

    /** Provider of {@code Conv2d}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Conv2d", "2-D convolution (cross-correlation) with stride, padding, dilation and groups",
                    ArgSpec.inferred("in_channels", ArgType.INT, 1, 1 << 16, "input channels (inferred from the input shape when absent)"),
                    ArgSpec.required("out_channels", ArgType.INT, 1, 1 << 16, 1, 4, "output channels"),
                    ArgSpec.required("kernel_size", ArgType.INTS, 1, 64, 1, 3, "kernel height and width").lengths(1, 2),
                    ArgSpec.withDefault("stride", ArgType.INTS, new int[]{1}, 1, 64, 1, 2, "stride").lengths(1, 2),
                    ArgSpec.withDefault("padding", ArgType.INTS, new int[]{0}, 0, 64, 0, 2, "zero padding: 1, 2 (h, w) or 4 (top, left, bottom, right) values").lengths(1, 2, 4),
                    ArgSpec.withDefault("dilation", ArgType.INTS, new int[]{1}, 1, 64, 1, 2, "dilation").lengths(1, 2),
                    ArgSpec.withDefault("groups", ArgType.INT, 1, 1, 1 << 16, 1, 1, "channel groups (groups = in_channels: depthwise)"),
                    ArgSpec.flag("bias", true, "learnable bias"),
                    ArgSpec.choice("init", "default", WeightInit.CHOICES, "weight initialization"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int c = ctx.inputDim(0, 3, "Conv2d");
            if (a.has("in_channels") && a.getInt("in_channels") != c) {
                throw new ShapeException("Conv2d", ctx.inputShape(), "[" + a.getInt("in_channels") + ", H, W] (in_channels=" + a.getInt("in_channels") + ")");
            }
            Conv2dLayer l = new Conv2dLayer(c, a.getInt("out_channels"), a.getInts("kernel_size", 2), convArgs(a, 0, 0),
                    a.getBool("bias"), ctx.dtype(), a.getString("init"), ctx.seed());
            l.outputShape(ctx.inputShape());
            return l;
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            int[] k = a.getInts("kernel_size", 2), d = a.getInts("dilation", 2);
            int c = a.has("in_channels") ? a.getInt("in_channels") : 1 + r.nextInt(3);
            return new int[]{c, d[0] * (k[0] - 1) + 1 + r.nextInt(4), d[1] * (k[1] - 1) + 1 + r.nextInt(4)};
        }
    }

    /** A padding argument of 1, 2 (h, w) or 4 values as (top, left, bottom, right). */
    static int[] expandPadding(int[] p) {
        return switch (p.length) {
            case 1 -> new int[]{p[0], p[0], p[0], p[0]};
            case 2 -> new int[]{p[0], p[1], p[0], p[1]};
            default -> p;
        };
    }

    /** Stride/padding/dilation/groups from a Conv-like spec; padding of 1, 2 or 4 values. */
    static ConvArgs convArgs(Args a, int outPadH, int outPadW) {
        int[] s = a.getInts("stride", 2), d = a.getInts("dilation", 2);
        int[] pad = expandPadding(a.getInts("padding"));
        return new ConvArgs(s[0], s[1], pad[0], pad[1], pad[2], pad[3], d[0], d[1], a.getInt("groups"), outPadH, outPadW);
    }
}
