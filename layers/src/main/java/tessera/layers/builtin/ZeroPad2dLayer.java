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

/** Zero padding of H and W (torch.nn.ZeroPad2d; 4 values are PyTorch's order left, right, top, bottom). */
public final class ZeroPad2dLayer extends AbstractLayer {
    private final int left, right, top, bottom;

    ZeroPad2dLayer(int left, int right, int top, int bottom) {
        super("ZeroPad2d");
        this.left = left;
        this.right = right;
        this.top = top;
        this.bottom = bottom;
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) { return Ops.pad2d(x, top, left, bottom, right, 0); }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3) throw new ShapeException("ZeroPad2d", in, "[C, H, W]");
        return new int[]{in[0], in[1] + top + bottom, in[2] + left + right};
    }

    /** Provider of {@code ZeroPad2d}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("ZeroPad2d", "pads H and W with zeros",
                    ArgSpec.required("padding", ArgType.INTS, 0, 1024, 0, 2, "1 value, or 4: left, right, top, bottom").lengths(1, 4));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int[] p = a.getInts("padding", 4);
            ZeroPad2dLayer l = new ZeroPad2dLayer(p[0], p[1], p[2], p[3]);
            l.outputShape(ctx.inputShape());
            return l;
        }
    }
}
