package tessera.layers.builtin;

import java.util.Arrays;
import java.util.List;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.LayerSpec;
import tessera.layers.ShapeException;
import tessera.layers.SpecException;

/** Layers applied one after another; children are named "0", "1", … as in torch.nn.Sequential. */
public final class SequentialLayer extends AbstractLayer {
    private final Layer[] chain;

    public SequentialLayer(List<Layer> layers) {
        super("Sequential");
        for (int i = 0; i < layers.size(); i++) addChild(Integer.toString(i), layers.get(i));
        chain = layers.toArray(new Layer[0]);
    }

    /**
     * The children in order; a training-mode batch norm directly followed by a ReLU runs as one fused op
     * ({@link BatchNormLayer#forwardRelu}: same values, one pass fewer each way, no intermediate tensor).
     */
    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Variable y = x;
        for (int i = 0; i < chain.length; i++) {
            if (i + 1 < chain.length && chain[i] instanceof BatchNormLayer bn && bn.isTraining() && isRelu(chain[i + 1])) {
                y = bn.forwardRelu(y);
                i++;
            } else {
                y = chain[i].forward(y, context);
            }
        }
        return y;
    }

    private static boolean isRelu(Layer l) {
        return l instanceof ActivationLayer a && a.activation() == tessera.kernels.Activation.RELU;
    }

    @Override
    public int[] outputShape(int[] in) {
        int[] s = in;
        int i = 0;
        for (Layer l : children().values()) {
            try {
                s = l.outputShape(s);
            } catch (ShapeException e) {
                throw new SpecException("layer " + i + " (" + l.type() + "): " + e.getMessage());
            }
            i++;
        }
        return s;
    }

    @Override
    public long macs(int[] in) {
        long m = 0;
        int[] s = in;
        for (Layer l : children().values()) {
            m += l.macs(s);
            s = l.outputShape(s);
        }
        return m;
    }

    /** Builds {@code specs} in order, feeding each the previous output shape; errors name the failing position. */
    public static List<Layer> buildChain(List<LayerSpec> specs, BuildContext ctx) {
        java.util.ArrayList<Layer> built = new java.util.ArrayList<>();
        int[] shape = ctx.inputShape();
        for (int i = 0; i < specs.size(); i++) {
            String path = ctx.path().isEmpty() ? Integer.toString(i) : ctx.path() + "." + i;
            LayerSpec s = specs.get(i);
            Layer l;
            try {
                l = ctx.registry().build(s, ctx.withInput(shape, path, ctx.seed() * 31 + i + 1));
                int[] before = shape;
                try {
                    shape = l.outputShape(shape);
                } catch (ShapeException e) {
                    throw new SpecException("layer " + path + " (" + s.type() + "): " + e.getMessage()
                            + " [input shape " + Arrays.toString(before) + "]");
                }
            } catch (RuntimeException e) {
                built.forEach(Layer::close);
                throw e;
            }
            built.add(l);
        }
        return built;
    }

    /** Provider of {@code Sequential}. */
    public static final class Provider extends BaseProvider {
        public Provider() { super("Sequential", "children applied in order", ArgSpec.layers("layers", false, "the layers, in order")); }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new SequentialLayer(buildChain(a.getLayers("layers"), ctx)); }

        @Override
        public boolean gradientCheckable() { return false; }   // its children are checked one by one; zoo tests cover containers
    }
}
