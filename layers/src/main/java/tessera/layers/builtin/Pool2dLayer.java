package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;

/**
 * Max, average and L2 pooling over H×W windows (torch.nn.MaxPool2d / AvgPool2d / LPPool2d with norm_type 2).
 * A MaxPool2d with an {@code id} stashes its argmax indices for a later MaxUnpool2d.
 */
public final class Pool2dLayer extends AbstractLayer {
    private final PoolSpec spec;
    private final String id;

    public Pool2dLayer(String type, PoolSpec spec, String id) {
        super(type);
        this.spec = spec;
        this.id = id;
    }

    public PoolSpec spec() { return spec; }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        if (id != null && !id.isEmpty()) {
            Variable[] out = Ops.maxPool2dWithIndices(x, spec);
            context.put(id, out[1].value());
            return out[0];
        }
        return Ops.pool2d(x, spec);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3) throw new ShapeException(type(), in, "[C, H, W]");
        try {
            spec.validate(in[1], in[2]);
        } catch (IllegalArgumentException e) {
            throw new ShapeException(type(), in, "an input the window fits (" + e.getMessage() + ")");
        }
        return new int[]{in[0], spec.outH(in[1]), spec.outW(in[2])};
    }

    @Override
    public long macs(int[] in) {
        int[] o = outputShape(in);
        return (long) o[0] * o[1] * o[2] * spec.kernelH() * spec.kernelW();
    }

    @Override
    public int[] window() { return new int[]{spec.kernelH(), spec.kernelW(), spec.strideH(), spec.strideW(), spec.dilationH(), spec.dilationW()}; }

    static ArgSpec[] poolArgs(boolean max, boolean avg) {
        java.util.List<ArgSpec> a = new java.util.ArrayList<>(java.util.List.of(
                ArgSpec.required("kernel_size", ArgType.INTS, 1, 64, 1, 3, "window height and width").lengths(1, 2),
                ArgSpec.inferred("stride", ArgType.INTS, 1, 64, "stride (default: kernel_size)").lengths(1, 2),
                ArgSpec.withDefault("padding", ArgType.INTS, new int[]{0}, 0, 32, 0, 1, "implicit padding: 1, 2 or 4 (top, left, bottom, right) values").lengths(1, 2, 4),
                ArgSpec.flag("ceil_mode", false, "ceil instead of floor in the output size")));
        if (max) {
            a.add(ArgSpec.withDefault("dilation", ArgType.INTS, new int[]{1}, 1, 16, 1, 2, "window dilation").lengths(1, 2));
            a.add(ArgSpec.withDefault("id", ArgType.STRING, "", 0, 0, 0, 0, "name under which the argmax indices are kept for MaxUnpool2d"));
        }
        if (avg) a.add(ArgSpec.flag("count_include_pad", true, "padding zeros count in the divisor"));
        return a.toArray(new ArgSpec[0]);
    }

    static PoolSpec spec(PoolType type, Args a) {
        int[] k = a.getInts("kernel_size", 2);
        int[] s = a.has("stride") ? a.getInts("stride", 2) : k;
        int[] pad = Conv2dLayer.expandPadding(a.getInts("padding"));
        int[] d = type == PoolType.MAX ? a.getInts("dilation", 2) : new int[]{1, 1};
        boolean cip = type == PoolType.AVG && a.getBool("count_include_pad");
        return new PoolSpec(type, k[0], k[1], s[0], s[1], pad[0], pad[1], pad[2], pad[3], d[0], d[1], a.getBool("ceil_mode"), cip);
    }

    static int[] sampleShape(PoolSpec s, SplittableRandom r) {
        int h = s.effectiveKernelH() + r.nextInt(4), w = s.effectiveKernelW() + r.nextInt(4);
        return new int[]{1 + r.nextInt(3), h, w};
    }

    private abstract static class PoolProvider extends BaseProvider {
        private final PoolType type;

        PoolProvider(String name, PoolType type, String description, ArgSpec... args) {
            super(name, description, args);
            this.type = type;
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            Pool2dLayer l = new Pool2dLayer(name(), spec(type, a), type == PoolType.MAX ? a.getString("id") : null);
            l.outputShape(ctx.inputShape());
            return l;
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) { return sampleShape(spec(type, a), r); }
    }

    /** Provider of {@code MaxPool2d}. */
    public static final class MaxProvider extends PoolProvider {
        public MaxProvider() { super("MaxPool2d", PoolType.MAX, "max over each window", poolArgs(true, false)); }
    }

    /** Provider of {@code AvgPool2d}. */
    public static final class AvgProvider extends PoolProvider {
        public AvgProvider() { super("AvgPool2d", PoolType.AVG, "mean over each window", poolArgs(false, true)); }
    }

    /** Provider of {@code LPPool2d} (p = 2). */
    public static final class L2Provider extends PoolProvider {
        public L2Provider() { super("LPPool2d", PoolType.L2, "L2 norm over each window (LPPool2d with norm_type 2)", poolArgs(false, false)); }
    }
}
