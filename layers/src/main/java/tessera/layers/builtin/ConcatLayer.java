package tessera.layers.builtin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.LayerSpec;
import tessera.layers.ShapeException;

/** Inception-style branches applied to the same input, outputs concatenated along channels. */
public final class ConcatLayer extends AbstractLayer {
    private final List<Layer> branches;

    public ConcatLayer(List<Layer> branches) {
        super("Concat");
        this.branches = List.copyOf(branches);
        for (int i = 0; i < branches.size(); i++) addChild(Integer.toString(i), branches.get(i));
    }

    public List<Layer> branches() { return branches; }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        List<Variable> outs = new ArrayList<>(branches.size());
        for (Layer b : branches) outs.add(b.forward(x, context));
        return Ops.concat(outs, 1);
    }

    @Override
    public int[] outputShape(int[] in) {
        int[] first = null;
        int channels = 0;
        for (Layer b : branches) {
            int[] s = b.outputShape(in);
            if (first == null) first = s;
            else if (s.length != first.length || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), Arrays.copyOfRange(first, 1, first.length))) {
                throw new ShapeException("Concat", in, "branches with equal spatial output sizes, got " + Arrays.toString(first) + " and " + Arrays.toString(s));
            }
            channels += s[0];
        }
        int[] o = first.clone();
        o[0] = channels;
        return o;
    }

    @Override
    public long macs(int[] in) {
        long m = 0;
        for (Layer b : branches) m += b.macs(in);
        return m;
    }

    /** Provider of {@code Concat}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Concat", "branches on the same input, concatenated along channels (Inception)",
                    ArgSpec.layers("branches", false, "one layer (or a list = Sequential) per branch"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            List<LayerSpec> specs = a.getLayers("branches");
            if (specs.isEmpty()) throw new IllegalArgumentException("Concat needs at least one branch");
            List<Layer> built = new ArrayList<>();
            for (int i = 0; i < specs.size(); i++) {
                built.add(ctx.registry().build(specs.get(i), ctx.withInput(ctx.inputShape(), ctx.path() + "." + i, ctx.seed() * 13 + i)));
            }
            ConcatLayer c = new ConcatLayer(built);
            c.outputShape(ctx.inputShape());
            return c;
        }

        @Override
        public boolean gradientCheckable() { return false; }
    }
}
