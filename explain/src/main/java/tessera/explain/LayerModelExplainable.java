package tessera.explain;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.autograd.GradMode;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.layers.ForwardContext;
import tessera.layers.Layer;
import tessera.layers.Model;
import tessera.layers.builtin.SequentialLayer;
import tessera.layers.io.ModelFiles;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A model built from a spec (a zoo architecture or a saved model file) in eval mode. Its layers are the units of the
 * top-level chain with nested {@code Sequential}s opened up, named by dotted path ({@code 3}, {@code 4.1}); a
 * {@code Residual} or {@code Concat} block is one unit. A convolution is a unit that is or contains a
 * {@code Conv2d} and outputs a feature map [C, H, W]. Backward passes also compute the parameters' gradients
 * (layers have no switch for that); they are released after each pass.
 */
public final class LayerModelExplainable implements Explainable {
    private final Model model;
    private final Map<String, Layer> units = new LinkedHashMap<>();
    private final List<String> convolutions = new ArrayList<>();

    /** Takes ownership of {@code model} (closed here if it cannot be explained) and switches it to eval mode. */
    public LayerModelExplainable(Model model) {
        this.model = model.eval();
        try {
            index();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Lists the units and the convolutions; checks the input is an image and the output a score vector. */
    private void index() {
        if (model.inputShape().length != 3) {
            throw new IllegalArgumentException("the model's input is " + Arrays.toString(model.inputShape()) + " per sample; explanations need images [C, H, W]");
        }
        collect(model.root(), "");
        int[] shape = model.inputShape();
        for (var e : units.entrySet()) {
            shape = e.getValue().outputShape(shape);
            if (shape.length == 3 && containsConv(e.getValue())) convolutions.add(e.getKey());
        }
        if (shape.length != 1) {
            throw new IllegalArgumentException("the model's output is " + Arrays.toString(shape) + " per sample; explanations need class scores [K]");
        }
    }

    /** Loads a model saved by {@code ModelFiles.save} (the demo's {@code model.safetensors}). */
    public static LayerModelExplainable load(Path file) throws IOException { return new LayerModelExplainable(ModelFiles.load(file)); }

    private void collect(Layer layer, String prefix) {
        for (var e : layer.children().entrySet()) {
            String name = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue() instanceof SequentialLayer s) collect(s, name);
            else units.put(name, e.getValue());
        }
    }

    private static boolean containsConv(Layer l) {
        if (l.type().equals("Conv2d")) return true;
        for (Layer c : l.children().values()) if (containsConv(c)) return true;
        return false;
    }

    @Override
    public int[] inputShape() { return model.inputShape().clone(); }

    @Override
    public int maxBatch() { return 16; }

    @Override
    public List<String> layers() { return List.copyOf(units.keySet()); }

    @Override
    public List<String> convolutions() { return List.copyOf(convolutions); }

    @Override
    public Tensor scores(Tensor x) {
        checkInput(x);
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            return run(Variable.constant(scoped(x)), null).value().to(DType.F32);
        }
    }

    @Override
    public Pass backward(Tensor x, String at, Tensor seed, String tap) {
        checkInput(x);
        check(at);
        check(tap);
        Tensor output = null, tapValue = null;
        Tensor[] tapGrad = new Tensor[1];
        try (Scope s = Scope.open()) {
            Variable xv = Variable.parameter(scoped(x), "input");
            Tensor[] tapped = new Tensor[1];
            Variable y = run(xv, at, tap, v -> tapped[0] = v, g -> {
                tapGrad[0] = Tensor.zeros(DType.F32, g.shape());
                tapGrad[0].copyFrom(g);
            });
            if (!Arrays.equals(y.shape(), seed.shape())) {
                throw new IllegalArgumentException("seed has shape " + Arrays.toString(seed.shape()) + ", the value at "
                        + (at == null ? "the scores" : "layer '" + at + "'") + " has shape " + Arrays.toString(y.shape()));
            }
            output = y.value().to(DType.F32);
            if (tapped[0] != null) tapValue = tapped[0].to(DType.F32);
            y.backward(scoped(seed));
            Tensor gx = xv.grad() == null ? Tensor.zeros(DType.F32, x.shape()) : xv.grad().to(DType.F32);
            xv.releaseGrad();
            if (tapValue != null && tapGrad[0] == null) tapGrad[0] = Tensor.zeros(DType.F32, tapValue.shape());
            Pass p = new Pass(output, gx, tapValue, tapGrad[0]);
            output = tapValue = tapGrad[0] = null;
            return p;
        } finally {
            for (Tensor t : new Tensor[] {output, tapValue, tapGrad[0]}) if (t != null) t.close();
            for (Variable p : model.parameters().values()) p.releaseGrad();
        }
    }

    @Override
    public Tensor activation(Tensor x, String name) {
        checkInput(x);
        check(name);
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            return run(Variable.constant(scoped(x)), name).value().to(DType.F32);
        }
    }

    @Override
    public Tensor firstConvolutionWeights() {
        Tensor w = firstConv(model.root());
        if (w == null) throw new IllegalArgumentException("the model has no Conv2d layer, so it has no filters to show");
        return w.to(DType.F32);
    }

    private static Tensor firstConv(Layer l) {
        if (l.type().equals("Conv2d")) return l.parameters().get("weight").value();
        for (Layer c : l.children().values()) {
            Tensor w = firstConv(c);
            if (w != null) return w;
        }
        return null;
    }

    private Variable run(Variable x, String stop) { return run(x, stop, null, null, null); }

    /**
     * Runs the units up to and including {@code stop} (null: all). At unit {@code tap} (null: none) the output's
     * value goes to {@code tapValue} and the gradient arriving there during backward to {@code tapGradient}.
     */
    private Variable run(Variable x, String stop, String tap, java.util.function.Consumer<Tensor> tapValue,
                         java.util.function.Consumer<Tensor> tapGradient) {
        ForwardContext ctx = new ForwardContext(0);
        Variable y = x;
        for (var e : units.entrySet()) {
            y = e.getValue().forward(y, ctx);
            if (e.getKey().equals(tap)) {
                tapValue.accept(y.value());
                y = Ops.tap(y, tapGradient);
            }
            if (e.getKey().equals(stop)) break;
        }
        return y;
    }

    /** A copy of {@code t} in the model's dtype, owned by the current scope. */
    private Tensor scoped(Tensor t) {
        Tensor c = Scope.alloc(model.dtype(), t.shape());
        c.copyFrom(t);
        return c;
    }

    private void checkInput(Tensor x) {
        int[] s = x.shape(), in = model.inputShape();
        if (s.length != 4 || s[1] != in[0] || s[2] != in[1] || s[3] != in[2]) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model takes [N, " + in[0] + ", " + in[1] + ", " + in[2] + "]");
        }
    }

    private void check(String name) {
        if (name != null && !units.containsKey(name)) throw new UnknownLayerException("layer", name, layers());
    }

    @Override
    public void close() { model.close(); }
}
