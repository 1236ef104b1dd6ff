package tessera.explain;

import java.util.ArrayList;
import java.util.List;
import tessera.memory.Tensor;

/** A layer's channel maps A [1, K, h, w] for one input, as a near-square grid of K gray tiles. */
public final class ActivationMaps {
    private ActivationMaps() {}

    /** @throws UnknownLayerException listing the layers when {@code layer} is not one */
    public static Grid grid(Explainable model, Tensor x, String layer) {
        Images.checkOne(x, model.inputShape());
        try (Tensor a = model.activation(x, layer)) {
            int[] s = a.shape();
            if (s.length != 4) {
                throw new IllegalArgumentException("layer '" + layer + "' has output shape " + java.util.Arrays.toString(s)
                        + "; activation maps need a feature map [1, C, h, w] (one of: " + String.join(", ", model.convolutions()) + ")");
            }
            float[] v = a.toFloatArray();
            int plane = s[2] * s[3];
            List<float[]> tiles = new ArrayList<>();
            for (int c = 0; c < s[1]; c++) tiles.add(java.util.Arrays.copyOfRange(v, c * plane, (c + 1) * plane));
            return Grid.of(tiles, s[2], s[3], 1, Grid.squareColumns(s[1]));
        }
    }
}
