package tessera.layers.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import tessera.autograd.Variable;
import tessera.layers.Model;
import tessera.layers.ModelSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A model in one safetensors file: every parameter and buffer under its dotted name (PyTorch state_dict style),
 * and the model spec as JSON in the header's {@code __metadata__} under {@code tessera.spec}. Other tools read the
 * tensors; {@link #load} rebuilds the model from the spec and restores every value exactly.
 */
public final class ModelFiles {
    public static final String SPEC_KEY = "tessera.spec";
    public static final String FORMAT_KEY = "tessera.format";
    public static final String FORMAT = "tessera-model-1";

    private ModelFiles() {}

    public static void save(Model model, Path file) throws IOException { save(model, file, Map.of()); }

    /** Saves parameters, buffers, the spec and {@code extraMetadata}. */
    public static void save(Model model, Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(FORMAT_KEY, FORMAT);
        meta.put(SPEC_KEY, model.spec().toJson());
        SafeTensors.write(file, stateDict(model), meta);
    }

    /** Parameters and buffers by name, in definition order. */
    public static LinkedHashMap<String, Tensor> stateDict(Model model) {
        LinkedHashMap<String, Tensor> all = new LinkedHashMap<>();
        for (Map.Entry<String, Variable> e : model.parameters().entrySet()) all.put(e.getKey(), e.getValue().value());
        all.putAll(model.buffers());
        return all;
    }

    /** Rebuilds the model saved by {@link #save} and restores its values; the caller closes it. */
    public static Model load(Path file) throws IOException {
        try (SafeTensors.Contents c = SafeTensors.read(file)) {
            String json = c.metadata().get(SPEC_KEY);
            if (json == null) {
                throw new SafeTensorsFormatException(file + ": no model spec in the header metadata (key '" + SPEC_KEY
                        + "'); was it written by ModelFiles.save?");
            }
            ModelSpec spec = ModelSpec.parse(json);
            DType dtype = c.tensors().isEmpty() ? DType.F32 : c.tensors().values().iterator().next().dtype();
            Model m = Model.build(spec, dtype, 0);
            try {
                restore(m, c.tensors(), file.toString());
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return m;
        }
    }

    /** Copies {@code values} into the model's parameters and buffers; names, shapes and dtypes must match exactly. */
    public static void restore(Model m, Map<String, Tensor> values, String source) {
        LinkedHashMap<String, Tensor> target = stateDict(m);
        for (String k : values.keySet()) {
            if (!target.containsKey(k)) throw new SafeTensorsFormatException(source + ": tensor '" + k + "' is not a parameter or buffer of model '" + m.spec().name() + "'");
        }
        for (Map.Entry<String, Tensor> e : target.entrySet()) {
            Tensor v = values.get(e.getKey());
            if (v == null) throw new SafeTensorsFormatException(source + ": missing tensor '" + e.getKey() + "' of shape " + Arrays.toString(e.getValue().shape()));
            if (!Arrays.equals(v.shape(), e.getValue().shape()) || v.dtype() != e.getValue().dtype()) {
                throw new SafeTensorsFormatException(source + ": tensor '" + e.getKey() + "' is " + v.dtype() + Arrays.toString(v.shape())
                        + ", the model expects " + e.getValue().dtype() + Arrays.toString(e.getValue().shape()));
            }
            e.getValue().copyFrom(v);
        }
        m.root().setTraining(m.isTraining());   // drops inference plans built from the old weights
    }
}
