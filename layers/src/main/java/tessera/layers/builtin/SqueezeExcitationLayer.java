package tessera.layers.builtin;

import java.util.SplittableRandom;
import tessera.autograd.ConvArgs;
import tessera.autograd.Ops;
import tessera.autograd.Variable;
import tessera.kernels.Activation;
import tessera.layers.AbstractLayer;
import tessera.layers.ArgSpec;
import tessera.layers.ArgType;
import tessera.layers.Args;
import tessera.layers.BuildContext;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.ShapeException;
import tessera.memory.DType;

/**
 * Squeeze-and-excitation (Hu et al.): s = σ(W₂·ReLU(W₁·GAP(x) + b₁) + b₂), y = x ⊙ s per channel. W₁, W₂ are
 * 1×1 convolutions with bias (as torchvision's SqueezeExcitation), C → C/reduction → C.
 */
public final class SqueezeExcitationLayer extends AbstractLayer {
    private final int channels, squeezed;
    private final Conv2dLayer fc1, fc2;

    SqueezeExcitationLayer(int channels, int squeezed, DType dtype, long seed) {
        super("SqueezeExcitation");
        this.channels = channels;
        this.squeezed = squeezed;
        fc1 = addChild("fc1", new Conv2dLayer(channels, squeezed, new int[]{1, 1}, ConvArgs.of(1, 0), true, dtype, "default", seed));
        fc2 = addChild("fc2", new Conv2dLayer(squeezed, channels, new int[]{1, 1}, ConvArgs.of(1, 0), true, dtype, "default", seed + 7));
    }

    @Override
    public Variable forward(Variable x, ForwardContext context) {
        Variable s = Ops.globalAvgPool(x);
        s = Ops.activation(fc1.forward(s, context), Activation.RELU, 0f);
        s = Ops.activation(fc2.forward(s, context), Activation.SIGMOID, 0f);
        return Ops.scaleChannels(x, s);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3 || in[0] != channels) throw new ShapeException("SqueezeExcitation", in, "[" + channels + ", H, W]");
        return in.clone();
    }

    @Override
    public long macs(int[] in) { return 2L * channels * squeezed + (long) channels * in[1] * in[2] * 2; }

    /** Provider of {@code SqueezeExcitation}. */
    public static final class Provider extends BaseProvider {
        public Provider() {
            super("SqueezeExcitation", "channel attention: x scaled by a gate computed from its global average",
                    ArgSpec.inferred("channels", ArgType.INT, 1, 1 << 16, "channels (inferred when absent)"),
                    ArgSpec.withDefault("reduction", ArgType.INT, 16, 1, 1 << 16, 1, 2, "squeeze ratio: hidden = channels / reduction"),
                    ArgSpec.inferred("squeeze_channels", ArgType.INT, 1, 1 << 16, "hidden size (overrides reduction)"));
        }

        @Override
        public Layer create(Args a, BuildContext ctx) {
            int c = ctx.inputDim(0, 3, "SqueezeExcitation");
            if (a.has("channels") && a.getInt("channels") != c) throw new ShapeException("SqueezeExcitation", ctx.inputShape(), a.getInt("channels") + " channels");
            int sq = a.has("squeeze_channels") ? a.getInt("squeeze_channels") : Math.max(1, c / a.getInt("reduction"));
            return new SqueezeExcitationLayer(c, sq, ctx.dtype(), ctx.seed());
        }

        @Override
        public int[] sampleInputShape(Args a, SplittableRandom r) {
            return new int[]{a.has("channels") ? a.getInt("channels") : 2 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(3)};
        }
    }
}
