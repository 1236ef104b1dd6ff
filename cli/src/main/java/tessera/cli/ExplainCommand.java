package tessera.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.explain.ActivationMaximization;
import tessera.explain.ActivationMaps;
import tessera.explain.Explainable;
import tessera.explain.Explainables;
import tessera.explain.Filters;
import tessera.explain.GradCam;
import tessera.explain.Grid;
import tessera.explain.InputImages;
import tessera.explain.Occlusion;
import tessera.explain.Plane;
import tessera.explain.Pngs;
import tessera.explain.Saliency;
import tessera.explain.Target;
import tessera.explain.UnknownLayerException;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/**
 * {@code tessera explain --model M --input X --method METHOD --out DIR}: writes {@code DIR/<method>.npy} (float32: the
 * map [H, W] for saliency, smoothgrad, gradxinput, gradcam and occlusion; the synthesized input [1, C, H, W] for
 * maximize; the grid [H, W] or [H, W, 3] for filters and activations) and {@code DIR/<method>.png}.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Looks inside a model: first-layer filters, activation maps, gradient saliency, Grad-CAM, occlusion sensitivity, "
                + "activation maximization. Writes DIR/<method>.npy (float32) and DIR/<method>.png.",
                "M is an ONNX file or a saved model (.safetensors, or a directory with model.safetensors); X is a .npy (one image, "
                        + "NCHW float32) or a PNG/JPEG (resized and center-cropped to the model's input; 1 channel: luma/255, "
                        + "3 channels: ImageNet mean/std)."})
public final class ExplainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M", description = "ONNX file or saved model") Path model;
    @Option(names = "--input", required = true, paramLabel = "X", description = "the image: .npy [1, C, H, W] float32, or PNG/JPEG") Path input;
    @Option(names = "--method", required = true, paramLabel = "METHOD",
            description = "filters|activations|saliency|smoothgrad|gradxinput|gradcam|occlusion|maximize") String method;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (created if missing)") Path out;
    @Option(names = "--class", paramLabel = "K", description = "class whose score is explained or maximized (default: the predicted class)") Integer cls;
    @Option(names = "--layer", paramLabel = "NAME",
            description = "activations: the layer/node (default: the first convolution); gradcam: the convolution (default: the last); "
                    + "maximize: NAME:CHANNEL maximizes a channel instead of a class") String layer;
    @Option(names = "--patch", paramLabel = "P", description = "occlusion patch size (default: max(4, H/14))") Integer patch;
    @Option(names = "--stride", paramLabel = "S", description = "occlusion stride (default: P/2)") Integer stride;
    @Option(names = "--steps", paramLabel = "N", description = "maximize: ascent steps (default 50); smoothgrad: noisy samples (default 25)") Integer steps;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seed of smoothgrad's noise and maximize's start and jitter (default ${DEFAULT-VALUE})") long seed;

    static final java.util.List<String> METHODS = java.util.List.of("filters", "activations", "saliency", "smoothgrad", "gradxinput", "gradcam", "occlusion", "maximize");

    @Override
    public Integer call() {
        UnknownLayerException[] unknown = new UnknownLayerException[1];
        int code = CliErrors.run("explain", () -> {
            try {
                explain();
            } catch (UnknownLayerException e) {
                unknown[0] = e;
            }
        });
        if (unknown[0] == null) return code;
        // the whole list of valid names on one line, even past the usual message length limit
        System.err.println("tessera explain: error: " + escaped(unknown[0].getMessage()));
        return 1;
    }

    private void explain() throws Exception {
        String m = method.toLowerCase(Locale.ROOT);
        if (!METHODS.contains(m)) throw new IllegalArgumentException("unknown --method '" + method + "'; expected one of " + String.join("|", METHODS));
        long start = System.nanoTime();
        try (Explainable model = Explainables.open(this.model); Tensor x = InputImages.read(input, model.inputShape())) {
            Files.createDirectories(out);
            String summary = run(m, model, x);
            System.out.printf("explain %s: %s; wrote %s and %s (%.2f s)%n", m, summary, out.resolve(m + ".npy"), out.resolve(m + ".png"),
                    (System.nanoTime() - start) / 1e9);
        }
    }

    /** Control characters as \xNN, so the line stays one line. */
    private static String escaped(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029') b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    /** Runs {@code method}, writes its files, returns a short description. */
    private String run(String method, Explainable model, Tensor x) throws Exception {
        Path npy = out.resolve(method + ".npy"), png = out.resolve(method + ".png");
        switch (method) {
            case "filters" -> {
                Grid g = Filters.grid(model);
                write(g, npy, png);
                return "first-convolution filters, grid " + g.height() + "×" + g.width();
            }
            case "activations" -> {
                String name = layer != null ? layer : firstConvolution(model);
                Grid g = ActivationMaps.grid(model, x, name);
                write(g, npy, png);
                return "channel maps of layer '" + name + "'";
            }
            case "maximize" -> {
                int[] shape = x.shape();
                ActivationMaximization.Objective o = objective(model, x);
                var config = ActivationMaximization.Config.defaults(shape[2], seed).withSteps(steps == null ? 50 : steps);
                ActivationMaximization.Result r = ActivationMaximization.run(model, shape, o, config);
                try (Tensor t = r.toTensor()) {
                    Npy.write(t, npy);
                    Pngs.write(Pngs.image(t), png);
                }
                return String.format("%s raised from %.4g to %.4g in %d steps", o.describe(), r.initial(), r.last(), config.steps());
            }
            default -> {
                Target t = Target.resolve(model, x, cls);
                Plane map = switch (method) {
                    case "saliency" -> Saliency.vanilla(model, x, t);
                    case "smoothgrad" -> Saliency.smoothGrad(model, x, t, steps == null ? Saliency.DEFAULT_SAMPLES : steps, Saliency.DEFAULT_NOISE, seed);
                    case "gradxinput" -> Saliency.gradientTimesInput(model, x, t);
                    case "gradcam" -> GradCam.compute(model, x, t, layer).map();
                    case "occlusion" -> Occlusion.compute(model, x, t, occlusion(x));
                    default -> throw new IllegalStateException(method);
                };
                try (Tensor m = map.toTensor()) {
                    Npy.write(m, npy);
                }
                Pngs.write(Pngs.heatMap(map, x), png);
                return "class " + t.cls() + (t.predicted() ? " (predicted)" : "") + String.format(", score %.4g", t.score());
            }
        }
    }

    private Occlusion.Config occlusion(Tensor x) {
        Occlusion.Config d = Occlusion.Config.defaults(x.dim(2), x.dim(3));
        int p = patch != null ? patch : d.patch();
        return new Occlusion.Config(p, stride != null ? stride : (patch != null ? Math.max(1, p / 2) : d.stride()), 0f);
    }

    private ActivationMaximization.Objective objective(Explainable model, Tensor x) {
        if (layer == null) return ActivationMaximization.Objective.classScore(cls != null ? cls : Target.resolve(model, x, null).cls());
        int colon = layer.lastIndexOf(':');
        if (colon < 0 || !layer.substring(colon + 1).matches("\\d+")) {
            throw new IllegalArgumentException("--layer '" + layer + "': maximize takes NAME:CHANNEL (e.g. " + firstConvolution(model) + ":0)");
        }
        return ActivationMaximization.Objective.channel(layer.substring(0, colon), Integer.parseInt(layer.substring(colon + 1)));
    }

    private static String firstConvolution(Explainable model) {
        if (model.convolutions().isEmpty()) throw new IllegalArgumentException("the model has no convolution; name a layer with --layer (one of: " + String.join(", ", model.layers()) + ")");
        return model.convolutions().getFirst();
    }

    private static void write(Grid g, Path npy, Path png) throws java.io.IOException {
        try (Tensor t = g.toTensor()) {
            Npy.write(t, npy);
        }
        Pngs.write(Pngs.grid(g), png);
    }
}
