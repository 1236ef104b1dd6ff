package tessera.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import tessera.explain.Explainable;
import tessera.explain.Explainables;
import tessera.explain.Filters;
import tessera.explain.Occlusion;
import tessera.explain.Plane;
import tessera.explain.Pngs;
import tessera.explain.Saliency;
import tessera.explain.Target;
import tessera.memory.Tensor;
import tessera.zoo.data.ImageDataset;

/**
 * The demo's last step: from the saved model in {@code dir}, {@code filters.png} (the first convolution's filters)
 * and, for the first few test digits, {@code saliency-digitI.png} and {@code occlusion-digitI.png} (4-pixel
 * patches, stride 2, fill 0 = the mean pixel after normalization) with their {@code .npy} maps.
 */
final class DemoExplanations {
    static final int DIGITS = 3;

    private DemoExplanations() {}

    static void write(Path dir, ImageDataset test, PrintStream out) throws IOException {
        StringBuilder labels = new StringBuilder();
        try (Explainable model = Explainables.open(dir)) {
            Pngs.write(Pngs.grid(Filters.grid(model)), dir.resolve("filters.png"));
            int[] s = test.sampleShape();
            for (int i = 0; i < DIGITS; i++) {
                try (Tensor x = Tensor.zeros(1, s[0], s[1], s[2])) {
                    x.copyFrom(test.images().narrow(0, i, 1));
                    Target t = Target.resolve(model, x, null);
                    write(Saliency.vanilla(model, x, t), x, dir, "saliency-digit" + i);
                    write(Occlusion.compute(model, x, t, new Occlusion.Config(4, 2, 0f)), x, dir, "occlusion-digit" + i);
                    labels.append(i == 0 ? "" : ", ").append(test.label(i)).append(" (predicted ").append(t.cls()).append(')');
                }
            }
        }
        out.println("explanations: wrote filters.png and saliency-digitI.png / occlusion-digitI.png (I = 0.." + (DIGITS - 1)
                + "; test digits " + labels + ") to " + dir);
    }

    private static void write(Plane map, Tensor x, Path dir, String name) throws IOException {
        try (Tensor t = map.toTensor()) {
            tessera.memory.io.Npy.write(t, dir.resolve(name + ".npy"));
        }
        Pngs.write(Pngs.heatMap(map, x), dir.resolve(name + ".png"));
    }
}
