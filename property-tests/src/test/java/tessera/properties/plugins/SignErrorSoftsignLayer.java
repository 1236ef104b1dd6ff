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
import tessera.memory.Tensor;

/**
 * Mutant: softsign y = x / (1 + |x|) with a sign error in its hand-written quotient-rule gradient:
 * (1 + |x| <b>+</b> x·sign(x)) / (1 + |x|)² instead of (1 + |x| <b>−</b> x·sign(x)) / (1 + |x|)² = 1 / (1 + |x|)².
 */
public final class SignErrorSoftsignLayer extends AbstractLayer {
    public SignErrorSoftsignLayer() { super("MutantSignErrorSoftsign"); }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Tensor xv = x.value();
        int n = (int) xv.numel();
        Tensor y = Scope.alloc(xv.dtype(), xv.shape());
        Tensor xf = xv.contiguous().reshape(n), yf = y.reshape(n);
        for (int i = 0; i < n; i++) {
            double a = xf.getDouble(i);
            yf.set(a / (1 + Math.abs(a)), i);
        }
        return Ops.custom("mutant_softsign", y, g -> {
            Tensor dx = Scope.alloc(xv.dtype(), xv.shape());
            Tensor gf = g.contiguous().reshape(n), df = dx.reshape(n);
            for (int i = 0; i < n; i++) {
                double a = xf.getDouble(i), d = 1 + Math.abs(a);
                df.set(gf.getDouble(i) * (d + a * Math.signum(a)) / (d * d), i);   // BUG: + should be −
            }
            return new Tensor[]{dx};
        }, x);
    }

    @Override
    public int[] outputShape(int[] inputShape) { return inputShape.clone(); }

    /** Provider of the mutant. */
    public static final class Provider implements LayerProvider, DeliberatelyBroken {
        @Override public String name() { return "MutantSignErrorSoftsign"; }
        @Override public String description() { return "TEST ONLY: softsign with a sign error in its gradient"; }
        @Override public List<ArgSpec> arguments() { return List.of(); }
        @Override public Layer create(Args args, BuildContext ctx) { return new SignErrorSoftsignLayer(); }
        @Override public String bug() { return "sign error in the quotient rule"; }
        @Override public String affectedTensor() { return "input"; }
    }
}
