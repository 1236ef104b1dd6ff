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

/** Maxout (Goodfellow et al.): the max over each group of {@code pieces} consecutive channels; C → C/pieces. */
public final class MaxoutLayer extends AbstractLayer {
    private final int pieces;

    MaxoutLayer(int pieces) {
        super("Maxout");
        this.pieces = pieces;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.maxout(x, pieces); }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length == 0 || in[0] % pieces != 0) throw new ShapeException("Maxout", in, "a channel count divisible by pieces=" + pieces);
        int[] o = in.clone();
        o[0] /= pieces;
        return o;
    }

    /** Provider of {@code Maxout}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Maxout", "max over groups of consecutive channels",
                    ArgSpec.required("pieces", ArgType.INT, 1, 1024, 1, 3, "channels per group"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            MaxoutLayer l = new MaxoutLayer(a.getInt("pieces"));
            l.outputShape(ctx.inputShape());
            return l;
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            return new int[]{a.getInt("pieces") * (1 + r.nextInt(2)), 1 + r.nextInt(3), 1 + r.nextInt(3)};
        }
    }
}
