package tessera.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import tessera.layers.LayerProvider;
import tessera.layers.LayerRegistry;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.layers.SpecException;
import tessera.memory.DType;

/**
 * JSON model specs: values of the wrong type, out-of-range sizes, unknown and missing keys, duplicate keys, deep
 * nesting. Accepted means parsed and built (parameters allocated) with a computed output shape.
 */
final class SpecTarget implements FuzzTarget {
    /** The parameter limit a service building untrusted specs would set: 2^24 elements (64 MiB of float32). */
    static final long MAX_ELEMENTS = 1L << 24;
    private final List<byte[]> seeds = new ArrayList<>();
    private final String[] names;

    SpecTarget() {
        List<String> n = new ArrayList<>(List.of("type", "input", "layers", "name", "body", "shortcut", "branches", "activation",
                "out_channels", "kernel_size", "stride", "padding", "out_features", "groups", "bias", "p", "dilation"));
        for (LayerProvider p : LayerRegistry.getDefault().providers()) n.add(p.name());
        names = n.toArray(String[]::new);
        seeds.add(("""
                { "name": "lenet5", "input": [1, 28, 28],
                  "layers": [
                    {"type": "Conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2}, {"type": "ReLU"},
                    {"type": "MaxPool2d", "kernel_size": 2},
                    {"type": "Conv2d", "out_channels": 16, "kernel_size": 5}, {"type": "ReLU"},
                    {"type": "MaxPool2d", "kernel_size": 2},
                    {"type": "Flatten"},
                    {"type": "Linear", "out_features": 120}, {"type": "ReLU"},
                    {"type": "Linear", "out_features": 84}, {"type": "ReLU"},
                    {"type": "Linear", "out_features": 10} ] }""").getBytes(StandardCharsets.UTF_8));
        seeds.add(("""
                { "name": "res", "input": [3, 8, 8],
                  "layers": [
                    {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "BatchNorm2d"},
                    {"type": "Residual", "body": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "ReLU"}],
                     "activation": "relu"},
                    {"type": "Concat", "branches": [[{"type": "Conv2d", "out_channels": 2, "kernel_size": 1}],
                                                     [{"type": "MaxPool2d", "kernel_size": 3, "stride": 1, "padding": 1}]]},
                    {"type": "Sequential", "layers": [{"type": "AvgPool2d", "kernel_size": 2}, {"type": "Dropout", "p": 0.5}]},
                    {"type": "GlobalAvgPool"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 3} ] }""")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Override public String name() { return "spec"; }
    @Override public String extension() { return ".json"; }
    @Override public List<byte[]> seeds() { return seeds; }
    @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(SpecException.class, IllegalArgumentException.class); }

    @Override
    public void exercise(byte[] input) {
        ModelSpec spec = ModelSpec.parse(new String(input, StandardCharsets.UTF_8));
        try (Model m = Model.build(spec, DType.F32, 0, LayerRegistry.getDefault(), MAX_ELEMENTS)) {
            m.outputShape();
        }
    }

    @Override
    public byte[] mutateStructure(byte[] in, Random rnd) {
        return JsonMutations.mutate(new String(in, StandardCharsets.UTF_8), rnd, names).getBytes(StandardCharsets.UTF_8);
    }
}
