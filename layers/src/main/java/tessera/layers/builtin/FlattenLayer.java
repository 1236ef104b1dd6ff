package tessera.layers.builtin;

import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;

/** Flattens each sample to a vector: [N, C, H, W] → [N, C·H·W]. */
public final class FlattenLayer extends AbstractLayer {
    public FlattenLayer() { super("Flatten"); }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.flatten(x, 1); }

    @Override
    public int[] outputShape(int[] in) {
        int n = 1;
        for (int d : in) n = Math.multiplyExact(n, d);
        return new int[]{n};
    }

    /** Provider of {@code Flatten}. */
    public static final class Provider extends BaseProvider {
        public Provider() { super("Flatten", "flattens each sample to a vector"); }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new FlattenLayer(); }
    }
}
