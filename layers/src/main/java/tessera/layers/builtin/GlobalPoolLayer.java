package tessera.layers.builtin;

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

/** Global average or max pooling: [N, C, H, W] → [N, C, 1, 1] (AdaptiveAvgPool2d with output size 1). */
public final class GlobalPoolLayer extends AbstractLayer {
    private final boolean max;

    public GlobalPoolLayer(String type, boolean max) {
        super(type);
        this.max = max;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        return max ? Ops.globalMaxPool(x) : Ops.globalAvgPool(x);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3) throw new ShapeException(type(), in, "[C, H, W]");
        return new int[]{in[0], 1, 1};
    }

    @Override
    public long macs(int[] in) { return (long) in[0] * in[1] * in[2]; }

    /** Provider of {@code GlobalAvgPool}. */
    public static final class AvgProvider extends BaseProvider {
        public AvgProvider() { super("GlobalAvgPool", "mean over all of H×W"); }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new GlobalPoolLayer("GlobalAvgPool", false); }
    }

    /** Provider of {@code GlobalMaxPool}. */
    public static final class MaxProvider extends BaseProvider {
        public MaxProvider() { super("GlobalMaxPool", "max over all of H×W"); }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new GlobalPoolLayer("GlobalMaxPool", true); }
    }

    /** Provider of {@code AdaptiveAvgPool2d}; output size 1 (global) is supported. */
    public static final class AdaptiveAvgProvider extends BaseProvider {
        public AdaptiveAvgProvider() {
            super("AdaptiveAvgPool2d", "average pooling to a fixed output size (1×1: global average)",
                    ArgSpec.withDefault("output_size", ArgType.INTS, new int[]{1}, 1, 1, 1, 1, "output height and width (only 1 is supported)").lengths(1, 2));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) { return new GlobalPoolLayer("AdaptiveAvgPool2d", false); }
    }
}
