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

/**
 * Max unpooling (torch.nn.MaxUnpool2d): scatters each value to the position its MaxPool2d took it from, zeros
 * elsewhere. The indices come from the MaxPool2d whose {@code id} equals {@code indices_from}. Output size
 * (H−1)·stride − 2·padding + kernel, as PyTorch's default.
 */
public final class MaxUnpool2dLayer extends AbstractLayer {
    private final int[] kernel, stride, padding;
    private final String from;

    MaxUnpool2dLayer(int[] kernel, int[] stride, int[] padding, String from) {
        super("MaxUnpool2d");
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.from = from;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        int[] o = outputShape(new int[]{x.dim(1), x.dim(2), x.dim(3)});
        return Ops.maxUnpool(x, context.get(from, "MaxUnpool2d"), o[1], o[2]);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3) throw new ShapeException("MaxUnpool2d", in, "[C, H, W]");
        return new int[]{in[0], (in[1] - 1) * stride[0] - 2 * padding[0] + kernel[0], (in[2] - 1) * stride[1] - 2 * padding[1] + kernel[1]};
    }

    /** Provider of {@code MaxUnpool2d}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("MaxUnpool2d", "inverse of MaxPool2d: values back at their argmax positions, zeros elsewhere",
                    ArgSpec.required("kernel_size", ArgType.INTS, 1, 64, 1, 3, "kernel of the matching MaxPool2d").lengths(1, 2),
                    ArgSpec.inferred("stride", ArgType.INTS, 1, 64, "stride of the matching MaxPool2d (default kernel_size)").lengths(1, 2),
                    ArgSpec.withDefault("padding", ArgType.INTS, new int[]{0}, 0, 32, 0, 0, "padding of the matching MaxPool2d").lengths(1, 2),
                    ArgSpec.required("indices_from", ArgType.STRING, 0, 0, 0, 0, "the id of the MaxPool2d whose indices to use"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int[] k = a.getInts("kernel_size", 2);
            return new MaxUnpool2dLayer(k, a.has("stride") ? a.getInts("stride", 2) : k, a.getInts("padding", 2), a.getString("indices_from"));
        }

        @Override
        public boolean gradientCheckable() { return false; }   // needs a paired MaxPool2d; checked inside a Sequential
    }
}
