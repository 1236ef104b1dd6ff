package tessera.zoo.transform;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tessera.autograd.ConvArgs;
import tessera.layers.Layer;
import tessera.layers.LayerSpec;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.layers.SpecException;
import tessera.layers.builtin.Conv2dLayer;
import tessera.layers.builtin.FlattenLayer;
import tessera.layers.builtin.LinearLayer;
import tessera.layers.builtin.SequentialLayer;

/**
 * Converts a classifier whose head is {@code Flatten, Linear, (activation/dropout), Linear, …} into its
 * fully-convolutional form: the first Linear, over a C×H×W map, becomes a C→out convolution with an H×W kernel
 * (its weight rows reshaped to [out, C, H, W]); later Linears become 1×1 convolutions. The Flatten is dropped.
 * At the training size the scores are identical (output [K, 1, 1] instead of [K]); on a larger image the model
 * yields a map of class scores, one per H×W window at the network's stride.
 */
public final class FullyConvolutional {
    private FullyConvolutional() {}

    /** The converted model (new weight tensors; the body's layers are shared with {@code model}). */
    public static Model convert(Model model, int[] newInput) {
        List<Layer> layers = model.root().childList();
        List<LayerSpec> specs = model.spec().layers();
        int flatten = -1;
        for (int i = 0; i < layers.size(); i++) if (layers.get(i) instanceof FlattenLayer) flatten = i;
        if (flatten < 0) throw new SpecException("model '" + model.spec().name() + "' has no Flatten before a Linear head");
        int[] shape = model.inputShape();
        for (int i = 0; i < flatten; i++) shape = layers.get(i).outputShape(shape);
        if (shape.length != 3) throw new SpecException("the map before Flatten has shape " + Arrays.toString(shape) + ", expected [C, H, W]");
        List<Layer> out = new ArrayList<>(layers.subList(0, flatten));
        List<LayerSpec> outSpecs = new ArrayList<>(specs.subList(0, flatten));
        boolean first = true;
        for (int i = flatten + 1; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l instanceof LinearLayer lin) {
                int c = first ? shape[0] : lin.inFeatures();
                int kh = first ? shape[1] : 1, kw = first ? shape[2] : 1;
                Conv2dLayer conv = new Conv2dLayer(c, lin.outFeatures(), new int[]{kh, kw}, ConvArgs.of(1, 0), lin.bias() != null,
                        lin.weight().dtype(), "default", 0);
                conv.weight().value().reshape(lin.outFeatures(), c * kh * kw).copyFrom(lin.weight().value());
                if (lin.bias() != null) conv.bias().value().copyFrom(lin.bias().value());
                out.add(conv);
                outSpecs.add(LayerSpec.of("Conv2d", "out_channels", lin.outFeatures(), "kernel_size", List.of(kh, kw), "bias", lin.bias() != null));
                first = false;
            } else if (l.outputShape(new int[]{1, 1, 1}).length == 3) {
                out.add(l);                  // pointwise (ReLU, Dropout, …) works on maps as well
                outSpecs.add(specs.get(i));
            } else {
                throw new SpecException("layer " + i + " (" + l.type() + ") in the head cannot be made convolutional");
            }
        }
        ModelSpec spec = new ModelSpec(model.spec().name() + "-fcn", newInput == null ? model.inputShape() : newInput, outSpecs);
        SequentialLayer root = new SequentialLayer(out);
        root.setTraining(model.isTraining());
        return Model.of(spec, root, model.dtype());
    }
}
