package tessera.layers.builtin;

import tessera.memory.RandomFill;
import tessera.memory.Tensor;

/**
 * Initial values of built-in layers' weights. "default" is PyTorch's Conv/Linear default
 * (kaiming_uniform with a = √5, i.e. U(±1/√fan_in), and the same bound for the bias); "kaiming" is He normal with
 * fan_out and ReLU gain (torchvision's ResNet choice); "xavier" is Glorot uniform.
 */
final class WeightInit {
    private WeightInit() {}

    static final java.util.List<String> CHOICES = java.util.List.of("default", "kaiming", "xavier");

    static void weight(Tensor w, String scheme, long fanIn, long fanOut, long seed) {
        switch (scheme) {
            case "kaiming" -> RandomFill.normal(w, seed, 0, Math.sqrt(2.0 / fanOut));
            case "xavier" -> {
                double b = Math.sqrt(6.0 / (fanIn + fanOut));
                RandomFill.uniform(w, seed, -b, b);
            }
            default -> {
                double b = 1 / Math.sqrt(fanIn);
                RandomFill.uniform(w, seed, -b, b);
            }
        }
    }

    static void bias(Tensor b, String scheme, long fanIn, long seed) {
        if (!scheme.equals("default")) return;      // zeros for kaiming / xavier
        double bound = 1 / Math.sqrt(fanIn);
        RandomFill.uniform(b, seed, -bound, bound);
    }
}
