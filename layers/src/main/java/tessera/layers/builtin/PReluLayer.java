package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;
import tessera.memory.DType;

/** Parametric ReLU (torch.nn.PReLU): a learned slope for x < 0, one shared or one per channel. */
public final class PReluLayer extends AbstractLayer {
    private final int count;
    private final Variable slope;

    PReluLayer(int count, double init, DType dtype) {
        super("PReLU");
        this.count = count;
        slope = addParameter("weight", dtype, count);
        slope.value().fill(init);
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.prelu(x, slope); }

    @Override
    public int[] outputShape(int[] in) {
        if (count != 1 && (in.length == 0 || in[0] != count)) throw new ShapeException("PReLU", in, count + " channels in dimension 1");
        return in.clone();
    }

    /** Provider of {@code PReLU}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("PReLU", "x if x >= 0 else a·x with learned a (shared or per channel)",
                    ArgSpec.withDefault("num_parameters", ArgType.INT, 1, 1, 1 << 20, 1, 1, "1 (shared) or the number of channels"),
                    ArgSpec.withDefault("init", ArgType.DOUBLE, 0.25, -1e6, 1e6, 0.1, 0.5, "initial slope"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            PReluLayer l = new PReluLayer(a.getInt("num_parameters"), a.getDouble("init"), ctx.dtype());
            l.outputShape(ctx.inputShape());
            return l;
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            int c = a.getInt("num_parameters") == 1 ? 1 + r.nextInt(3) : a.getInt("num_parameters");
            return new int[]{c, 1 + r.nextInt(3), 1 + r.nextInt(3)};
        }
    }
}
