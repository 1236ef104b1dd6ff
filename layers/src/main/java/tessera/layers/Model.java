package tessera.layers;

import java.util.Map;
import tessera.autograd.Variable;
import tessera.layers.builtin.SequentialLayer;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A model built from a {@link ModelSpec}: the layers (a Sequential), the per-sample input shape and the spec it
 * came from. Parameters live off-heap until {@link #close()}.
 */
public final class Model implements AutoCloseable {
    private final ModelSpec spec;
    private final SequentialLayer root;
    private final DType dtype;
    private final java.util.List<Variable> parameterList; // for zeroGrad: no map built on every step

    private Model(ModelSpec spec, SequentialLayer root, DType dtype) {
        this.spec = spec;
        this.root = root;
        this.dtype = dtype;
        this.parameterList = java.util.List.copyOf(root.parameters().values());
    }

    /** Builds every layer with the default registry; shape errors name the layer position and both shapes. */
    public static Model build(ModelSpec spec, DType dtype, long seed) { return build(spec, dtype, seed, LayerRegistry.getDefault()); }

    public static Model build(ModelSpec spec, DType dtype, long seed, LayerRegistry registry) {
        return build(spec, dtype, seed, registry, Long.getLong(MAX_ELEMENTS_PROPERTY, DEFAULT_MAX_ELEMENTS));
    }

    /** System property overriding {@link #DEFAULT_MAX_ELEMENTS}. */
    public static final String MAX_ELEMENTS_PROPERTY = "tessera.model.maxElements";
    /** Most parameter and buffer elements a built model may have by default: 2^28 (1 GiB of float32; VGG-19 has 1.4·10^8). */
    public static final long DEFAULT_MAX_ELEMENTS = 1L << 28;

    /**
     * Builds every layer, allocating at most {@code maxElements} parameter and buffer elements in all: a spec that
     * needs more fails with a {@link SpecException} before the allocation that would exceed the limit.
     */
    public static Model build(ModelSpec spec, DType dtype, long seed, LayerRegistry registry, long maxElements) {
        if (maxElements < 0) throw new IllegalArgumentException("maxElements must be >= 0, got " + maxElements);
        BuildContext ctx = new BuildContext(spec.input(), dtype, seed, registry, "");
        return ParameterBudget.within(maxElements,
                () -> new Model(spec, new SequentialLayer(SequentialLayer.buildChain(spec.layers(), ctx)), dtype));
    }

    /** A model from already-built layers (e.g. a transformed model); {@code spec} must describe the same layers. */
    public static Model of(ModelSpec spec, SequentialLayer root, DType dtype) { return new Model(spec, root, dtype); }

    public ModelSpec spec() { return spec; }
    public SequentialLayer root() { return root; }
    public DType dtype() { return dtype; }
    public int[] inputShape() { return spec.input(); }
    public int[] outputShape() { return root.outputShape(spec.input()); }

    /** Forward pass on a batch [N, ...input]. */
    public Variable forward(Variable x, ForwardContext ctx) { return root.forward(x, ctx); }

    /** Forward pass with a fresh context (seed 0 for dropout). */
    public Variable forward(Variable x) { return root.forward(x, new ForwardContext(0)); }

    public Map<String, Variable> parameters() { return root.parameters(); }
    public Map<String, Tensor> buffers() { return root.buffers(); }
    public long parameterCount() { return root.parameterCount(); }

    public Model train() { root.setTraining(true); return this; }
    public Model eval() { root.setTraining(false); return this; }
    public boolean isTraining() { return root.isTraining(); }

    /** Zeroes every parameter's accumulated gradient. */
    public void zeroGrad() {
        for (int i = 0; i < parameterList.size(); i++) parameterList.get(i).zeroGrad();
    }

    @Override
    public void close() { root.close(); }
}
