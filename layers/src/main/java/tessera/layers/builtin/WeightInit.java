package tessera.layers.builtin;

import tessera.layers.init.Init;
import tessera.memory.Tensor;

/**
 * The {@code init} argument of built-in weight layers, mapped to {@link Init}: "default" is PyTorch's Conv/Linear
 * default (kaiming_uniform with a = √5, i.e. U(±1/√fan_in), and the same bound for the bias); "kaiming" is He
 * normal with fan_out and ReLU gain (torchvision's ResNet choice), bias zero; "xavier" is Glorot uniform, bias zero.
 * Fans come from the weight's shape, as in PyTorch.
 */
final class WeightInit {
    private WeightInit() {}

    static final java.util.List<String> CHOICES = java.util.List.of("default", "kaiming", "xavier");

    static void weight(Tensor w, String scheme, long seed) {
        switch (scheme) {
            case "kaiming" -> Init.heNormal(w, Init.FanMode.FAN_OUT, seed);
            case "xavier" -> Init.xavierUniform(w, seed);
            default -> Init.torchDefaultWeight(w, seed);
        }
    }

    static void bias(Tensor b, String scheme, int[] weightShape, long seed) {
        if (scheme.equals("default")) Init.torchDefaultBias(b, weightShape, seed);
    }
}
