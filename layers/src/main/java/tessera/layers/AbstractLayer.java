package tessera.layers;

import java.util.LinkedHashMap;
import java.util.Map;
import tessera.autograd.Variable;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Base class holding own parameters, buffers, children and the training flag. Frees its memory on close. */
public abstract class AbstractLayer implements Layer {
    private final String type;
    private final Map<String, Variable> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Layer> children = new LinkedHashMap<>();
    private boolean training = true;

    protected AbstractLayer(String type) { this.type = type; }

    @Override
    public String type() { return type; }

    /** Registers a trainable parameter of {@code shape} (zero-filled; initialize it after). */
    protected Variable addParameter(String name, DType dtype, int... shape) {
        ParameterBudget.take(type + " parameter '" + name + "'", dtype, shape);
        Variable v = Variable.parameter(Tensor.zeros(dtype, shape), name);
        params.put(name, v);
        return v;
    }

    /** Registers a buffer of {@code shape} filled with {@code value}. */
    protected Tensor addBuffer(String name, DType dtype, double value, int... shape) {
        ParameterBudget.take(type + " buffer '" + name + "'", dtype, shape);
        Tensor t = Tensor.zeros(dtype, shape);
        if (value != 0) t.fill(value);
        buffers.put(name, t);
        return t;
    }

    protected <L extends Layer> L addChild(String name, L child) {
        children.put(name, child);
        return child;
    }

    @Override
    public Map<String, Variable> parameters() {
        Map<String, Variable> out = new LinkedHashMap<>(params);
        out.putAll(Layer.super.parameters());
        return out;
    }

    @Override
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> out = new LinkedHashMap<>(buffers);
        out.putAll(Layer.super.buffers());
        return out;
    }

    @Override
    public Map<String, Layer> children() { return java.util.Collections.unmodifiableMap(children); }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
        for (Layer c : children.values()) c.setTraining(training);
    }

    @Override
    public boolean isTraining() { return training; }

    @Override
    public void close() {
        for (Variable v : params.values()) {
            v.releaseGrad();
            v.value().close();
        }
        for (Tensor t : buffers.values()) t.close();
        for (Layer c : children.values()) c.close();
    }

    @Override
    public String toString() { return type; }
}
