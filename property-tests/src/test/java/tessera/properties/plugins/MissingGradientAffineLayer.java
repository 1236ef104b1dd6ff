package tessera.properties.plugins;

import java.util.List;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.LayerProvider;
import tessera.layers.ShapeException;
import tessera.memory.Tensor;

/**
 * Mutant: per-channel affine map y[n, c, ...] = scale[c]·x[n, c, ...] + shift[c] with a hand-written backward that
 * returns the gradients of x and scale but forgets the one of {@code shift} (returns null for it).
 */
public final class MissingGradientAffineLayer extends AbstractLayer {
    private final Variable scale, shift;
    private final int channels;

    public MissingGradientAffineLayer(int channels, BuildContext ctx) {
        super("MutantMissingGradientAffine");
        this.channels = channels;
        scale = addParameter("scale", ctx.dtype(), channels);
        scale.value().fill(1);
        shift = addParameter("shift", ctx.dtype(), channels);
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Tensor xv = x.value().contiguous();
        int n = (int) xv.numel(), c = xv.dim(1), inner = n / (xv.dim(0) * c);
        Tensor y = Scope.alloc(xv.dtype(), xv.shape());
        Tensor xf = xv.reshape(n), yf = y.reshape(n);
        for (int i = 0; i < n; i++) {
            int ch = (i / inner) % c;
            yf.set(scale.value().getDouble(ch) * xf.getDouble(i) + shift.value().getDouble(ch), i);
        }
        return Ops.custom("mutant_affine", y, g -> {
            Tensor dx = Scope.alloc(xv.dtype(), xv.shape()), ds = Scope.alloc(xv.dtype(), c);
            Tensor gf = g.contiguous().reshape(n), df = dx.reshape(n);
            for (int i = 0; i < n; i++) {
                int ch = (i / inner) % c;
                df.set(gf.getDouble(i) * scale.value().getDouble(ch), i);
                ds.set(ds.getDouble(ch) + gf.getDouble(i) * xf.getDouble(i), ch);
            }
            return new Tensor[]{dx, ds, null};   // BUG: the gradient of shift (Σ g per channel) is missing
        }, x, scale, shift);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length < 1 || in[0] != channels) throw new ShapeException("MutantMissingGradientAffine", in, "[" + channels + ", ...]");
        return in.clone();
    }

    /** Provider of the mutant. */
    public static final class Provider implements LayerProvider, DeliberatelyBroken {
        @Override public String name() { return "MutantMissingGradientAffine"; }
        @Override public String description() { return "TEST ONLY: per-channel affine map that drops the shift gradient"; }
        @Override public List<ArgSpec> arguments() { return List.of(); }
        @Override public Layer create(Args args, BuildContext ctx) {
            return new MissingGradientAffineLayer(ctx.inputDim(0, 3, name()), ctx);
        }
        @Override public String bug() { return "no gradient for parameter shift"; }
        @Override public String affectedTensor() { return "shift"; }
    }
}
