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

/** Fully connected layer, as torch.nn.Linear: y = x·Wᵀ + b with W [out, in]; input [N, in]. */
public final class LinearLayer extends AbstractLayer {
    private final int in, out;
    private final Variable weight, bias;

    public LinearLayer(int in, int out, boolean hasBias, DType dtype, String init, long seed) {
        super("Linear");
        this.in = in;
        this.out = out;
        weight = addParameter("weight", dtype, out, in);
        WeightInit.weight(weight.value(), init, seed);
        bias = hasBias ? addParameter("bias", dtype, out) : null;
        if (bias != null) WeightInit.bias(bias.value(), init, weight.shape(), seed + 1);
    }

    public Variable weight() { return weight; }
    public Variable bias() { return bias; }
    public int inFeatures() { return in; }
    public int outFeatures() { return out; }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.linear(x, weight, bias); }

    @Override
    public int[] outputShape(int[] s) {
        if (s.length != 1 || s[0] != in) throw new ShapeException("Linear", s, "[" + in + "] (add a Flatten before a Linear over feature maps)");
        return new int[]{out};
    }

    @Override
    public long macs(int[] s) { return (long) in * out; }

    /** Provider of {@code Linear}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Linear", "fully connected layer y = x·Wᵀ + b",
                    ArgSpec.inferred("in_features", ArgType.INT, 1, 1 << 26, "input features (inferred when absent)"),
                    ArgSpec.required("out_features", ArgType.INT, 1, 1 << 26, 1, 5, "output features"),
                    ArgSpec.flag("bias", true, "learnable bias"),
                    ArgSpec.choice("init", "default", WeightInit.CHOICES, "weight initialization"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int f = ctx.inputDim(0, 1, "Linear");
            if (a.has("in_features") && a.getInt("in_features") != f) {
                throw new ShapeException("Linear", ctx.inputShape(), "[" + a.getInt("in_features") + "]");
            }
            return new LinearLayer(f, a.getInt("out_features"), a.getBool("bias"), ctx.dtype(), a.getString("init"), ctx.seed());
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            return new int[]{a.has("in_features") ? a.getInt("in_features") : 1 + r.nextInt(6)};
        }
    }
}
