package tessera.properties.plugins;

import java.util.List;
import java.util.SplittableRandom;
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
import tessera.memory.Tensor;

/**
 * Mutant: a causal shift along the last axis, y[..., w] = x[..., w − 1] (y[..., 0] = 0), whose hand-written
 * backward has an off-by-one index: it reads g[..., w] where dx[..., w] = g[..., w + 1] is right.
 */
public final class OffByOneShiftLayer extends AbstractLayer {
    public OffByOneShiftLayer() { super("MutantOffByOneShift"); }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Tensor xv = x.value().contiguous();
        int n = (int) xv.numel(), w = xv.dim(xv.rank() - 1), rows = n / w;
        Tensor y = Scope.alloc(xv.dtype(), xv.shape());
        Tensor xf = xv.reshape(n), yf = y.reshape(n);
        for (int r = 0; r < rows; r++) {
            for (int j = 1; j < w; j++) yf.set(xf.getDouble(r * w + j - 1), r * w + j);
        }
        return Ops.custom("mutant_shift", y, g -> {
            Tensor dx = Scope.alloc(xv.dtype(), xv.shape());
            Tensor gf = g.contiguous().reshape(n), df = dx.reshape(n);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j + 1 < w; j++) df.set(gf.getDouble(r * w + j), r * w + j);   // BUG: index j should be j + 1
            }
            return new Tensor[]{dx};
        }, x);
    }

    @Override
    public int[] outputShape(int[] inputShape) { return inputShape.clone(); }

    /** Provider of the mutant. */
    public static final class Provider implements LayerProvider, DeliberatelyBroken {
        @Override public String name() { return "MutantOffByOneShift"; }
        @Override public String description() { return "TEST ONLY: causal shift whose gradient reads the wrong index"; }
        @Override public List<ArgSpec> arguments() { return List.of(); }
        @Override public Layer create(Args args, BuildContext ctx) { return new OffByOneShiftLayer(); }
        @Override public int[] sampleInputShape(Args args, SplittableRandom r) {
            return new int[]{1 + r.nextInt(3), 1 + r.nextInt(4), 1 + r.nextInt(5)};
        }
        @Override public String bug() { return "off-by-one index in the backward loop"; }
        @Override public String affectedTensor() { return "input"; }
    }
}
