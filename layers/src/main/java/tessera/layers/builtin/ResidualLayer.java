package tessera.layers.builtin;

import java.util.Arrays;
import java.util.List;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.Activation;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;

/**
 * A residual block: y = act(body(x) + shortcut(x)); the shortcut is the identity when empty, or a projection
 * (e.g. 1×1 convolution + batch norm) that matches the body's output shape. act is ReLU (ResNet v1) or none (v2).
 */
public final class ResidualLayer extends AbstractLayer {
    private final SequentialLayer body;
    private final SequentialLayer shortcut;   // null: identity
    private final boolean relu;

    public ResidualLayer(SequentialLayer body, SequentialLayer shortcut, boolean relu) {
        super("Residual");
        this.body = addChild("body", body);
        this.shortcut = shortcut == null ? null : addChild("shortcut", shortcut);
        this.relu = relu;
    }

    public SequentialLayer body() { return body; }
    /** The projection, or null for the identity. */
    public SequentialLayer shortcut() { return shortcut; }
    public boolean reluAfterAdd() { return relu; }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Variable b = body.forward(x, context);
        Variable s = shortcut == null ? x : shortcut.forward(x, context);
        Variable y = Ops.add(b, s);
        return relu ? Ops.activation(y, Activation.RELU, 0f) : y;
    }

    @Override
    public int[] outputShape(int[] in) {
        int[] b = body.outputShape(in);
        int[] s = shortcut == null ? in : shortcut.outputShape(in);
        if (!Arrays.equals(b, s)) {
            throw new ShapeException("Residual", in, "a body and shortcut with equal output shapes, got body "
                    + Arrays.toString(b) + " and shortcut " + Arrays.toString(s) + (shortcut == null ? " (identity: add a projection shortcut)" : ""));
        }
        return b;
    }

    @Override
    public long macs(int[] in) { return body.macs(in) + (shortcut == null ? 0 : shortcut.macs(in)); }

    /** Provider of {@code Residual}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("Residual", "y = act(body(x) + shortcut(x)) with an identity or projection shortcut",
                    ArgSpec.layers("body", false, "the residual branch"),
                    ArgSpec.layers("shortcut", true, "the projection (empty: identity)"),
                    ArgSpec.choice("activation", "none", List.of("none", "relu"), "applied after the addition (relu: ResNet v1)"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            SequentialLayer body = new SequentialLayer(SequentialLayer.buildChain(a.getLayers("body"),
                    ctx.withInput(ctx.inputShape(), ctx.path() + ".body", ctx.seed() * 7 + 1)));
            List<tessera.layers.LayerSpec> sc = a.getLayers("shortcut");
            SequentialLayer shortcut = sc.isEmpty() ? null : new SequentialLayer(SequentialLayer.buildChain(sc,
                    ctx.withInput(ctx.inputShape(), ctx.path() + ".shortcut", ctx.seed() * 7 + 2)));
            ResidualLayer r = new ResidualLayer(body, shortcut, a.getString("activation").equals("relu"));
            try {
                r.outputShape(ctx.inputShape());
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            return r;
        }

        @Override
        public boolean gradientCheckable() { return false; }
    }
}
