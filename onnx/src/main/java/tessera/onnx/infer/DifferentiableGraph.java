package tessera.onnx.infer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.autograd.ConvArgs;
import tessera.autograd.Ops;
import tessera.autograd.Scope;
import tessera.autograd.Variable;
import tessera.kernels.ActivationFn;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.kernels.volume.Conv3dSpec;
import tessera.kernels.volume.ConvTranspose3dSpec;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxNode;
import tessera.onnx.OnnxOps;
import tessera.onnx.OnnxValidator;
import tessera.onnx.OpArgs;
import tessera.onnx.Elementwise;

/**
 * Vector-Jacobian products through an imported ONNX graph, in the mode each node states: batch norm with its
 * running statistics and dropout off in inference mode (the usual export); training-mode BatchNormalization with
 * the batch's statistics (rewritten at load into table operators, so the gradient flows through them) and
 * training-mode Dropout multiplying by its mask ({@link TrainingDropout}; a fresh one per call unless seeded).
 * The graph is interpreted as it is in the file — no batch-norm folding, no fusion — so
 * gradients are with respect to the model's original initializers. Each node maps to {@link Ops} calls of the
 * autograd engine; shape-computing subgraphs (Shape → Gather → Unsqueeze → Concat → Reshape, Constant, integer
 * initializers) are folded with {@link ConstEval}. Every float initializer is a parameter, including batch-norm
 * running statistics, whose gradients are the exact derivatives of the eval-mode formula
 * {@code y = (x − mean)·γ/√(var + ε) + β}.
 *
 * <p>Float initializers that a node needs as a plain number (Clip bounds, Pad value, Dropout ratio) are read as constants and get
 * no gradient through that use. Booleans (Equal, Greater, Less results) are 0/1 constants in the computation dtype;
 * nothing differentiates through them. Operators without a differentiable mapping are reported with the node's name.
 */
public final class DifferentiableGraph {
    /** Operators {@link #vjp} differentiates through (from the operator table {@link OnnxOps}). */
    public static final List<String> DIFFERENTIABLE = List.copyOf(OnnxOps.differentiable());

    /**
     * The result of one VJP: the first output Y, ∂(Σ Y⊙GY)/∂X and the same derivative for every float initializer
     * (file order). Owns its tensors (in the computation dtype); close to free them.
     */
    public static final class Gradients implements AutoCloseable {
        private final Tensor output;
        private final Tensor input;
        private final Map<String, Tensor> initializers;
        private final Map<String, Tensor> tapped;
        private final Map<String, Tensor> tappedGradients;

        Gradients(Tensor output, Tensor input, Map<String, Tensor> initializers, Map<String, Tensor> tapped,
                  Map<String, Tensor> tappedGradients) {
            this.output = output;
            this.input = input;
            this.initializers = initializers;
            this.tapped = tapped;
            this.tappedGradients = tappedGradients;
        }

        /** The model's first output for the given input. */
        public Tensor output() { return output; }

        /** ∂(Σ Y⊙GY)/∂X, the input's shape. */
        public Tensor input() { return input; }

        /** ∂(Σ Y⊙GY)/∂W for every float initializer W, by initializer name in file order (zeros where W is unused). */
        public Map<String, Tensor> initializers() { return java.util.Collections.unmodifiableMap(initializers); }

        /** The value of every tapped name ({@link Options#taps()}), by name: what the forward pass computed there. */
        public Map<String, Tensor> tapped() { return java.util.Collections.unmodifiableMap(tapped); }

        /** ∂(Σ Y⊙GY)/∂V for every tapped value V, by name, V's shape (zeros where V does not reach Y). */
        public Map<String, Tensor> tappedGradients() { return java.util.Collections.unmodifiableMap(tappedGradients); }

        @Override
        public void close() {
            output.close();
            input.close();
            for (Tensor t : initializers.values()) t.close();
            for (Tensor t : tapped.values()) t.close();
            for (Tensor t : tappedGradients.values()) t.close();
        }
    }

    /**
     * What a VJP computes besides the input gradient.
     *
     * @param initializerGradients whether every float initializer gets its gradient (off: initializers are constants,
     *                             which skips the weight-gradient work when only ∂/∂X or tapped gradients are wanted)
     * @param taps                 names of intermediate values (node outputs, or the graph input) whose value and
     *                             gradient {@link Gradients#tapped()} and {@link Gradients#tappedGradients()} return
     */
    public record Options(boolean initializerGradients, java.util.Set<String> taps) {
        /** Initializer gradients, no taps: what {@link #vjp(OnnxGraph, Tensor, Tensor, DType)} computes. */
        public static final Options DEFAULT = new Options(true, java.util.Set.of());

        public Options {
            taps = java.util.Set.copyOf(taps);
        }

        /** The same options without initializer gradients. */
        public Options withoutInitializerGradients() { return new Options(false, taps); }

        /** The same options tapping {@code names} instead. */
        public Options withTaps(String... names) { return new Options(initializerGradients, java.util.Set.of(names)); }
    }

    /** The values of named intermediate results of one forward pass ({@link #evaluate}); owns its tensors. */
    public static final class Values implements AutoCloseable {
        private final Tensor output;
        private final Map<String, Tensor> values;

        Values(Tensor output, Map<String, Tensor> values) {
            this.output = output;
            this.values = values;
        }

        /** The model's first output. */
        public Tensor output() { return output; }

        /** Each requested value by name, in the computation dtype. */
        public Map<String, Tensor> values() { return java.util.Collections.unmodifiableMap(values); }

        @Override
        public void close() {
            output.close();
            for (Tensor t : values.values()) t.close();
        }
    }

    /** The argmax indices of a MaxPool's second output (Tessera's per-plane h·W+w convention), for MaxUnpool. */
    private record PoolIndices(Tensor indices) {}

    private final OnnxGraph graph;
    private final DType dtype;
    private final Map<String, Object> values = new HashMap<>(); // Variable, CVal or PoolIndices
    private final Map<String, Variable> parameters = new LinkedHashMap<>();
    private final EltwiseVjp eltwise;
    private final Options options;
    private final Map<String, Tensor> tapped = new LinkedHashMap<>();
    private final Map<String, Tensor> tappedGradients = new LinkedHashMap<>();

    private DifferentiableGraph(OnnxGraph graph, DType dtype, Options options) {
        this.graph = graph;
        this.dtype = dtype;
        this.eltwise = new EltwiseVjp(dtype);
        this.options = options;
    }

    /**
     * Computes the VJP of the graph's first output at input {@code x} with output gradient {@code gradOutput}.
     *
     * @param graph      an imported graph with one input (validated here)
     * @param x          the input, any float dtype; converted to {@code dtype}
     * @param gradOutput GY, the first output's shape
     * @param dtype      {@code F32} (fast kernels) or {@code F64} (reference kernels) for the whole computation
     * @throws OnnxFormatException      naming the node when an operator has no differentiable mapping or bad shapes
     * @throws IllegalArgumentException when x or gradOutput have the wrong shape or dtype
     */
    public static Gradients vjp(OnnxGraph graph, Tensor x, Tensor gradOutput, DType dtype) {
        return vjp(graph, x, gradOutput, dtype, Options.DEFAULT);
    }

    /**
     * {@link #vjp(OnnxGraph, Tensor, Tensor, DType)} with options: initializer gradients on or off, and taps —
     * intermediate values whose value and gradient are returned too (Grad-CAM needs both at a convolution's output).
     *
     * @throws IllegalArgumentException also when a tap names no value of the graph
     */
    public static Gradients vjp(OnnxGraph graph, Tensor x, Tensor gradOutput, DType dtype, Options options) {
        checkArguments(graph, x, dtype);
        if (!differentiable(gradOutput.dtype())) {
            throw new IllegalArgumentException("grad-output has dtype " + gradOutput.dtype() + ", expected float32 or float64");
        }
        checkNames(graph, options.taps());
        return new DifferentiableGraph(graph, dtype, options).run(x, gradOutput);
    }

    /**
     * One forward pass without recording a graph, returning the first output and the named intermediate values
     * (node outputs or the graph input), e.g. a layer's activation maps.
     *
     * @throws IllegalArgumentException when a name is no value of the graph, or x has the wrong shape or dtype
     */
    public static Values evaluate(OnnxGraph graph, Tensor x, DType dtype, java.util.Set<String> names) {
        checkArguments(graph, x, dtype);
        checkNames(graph, names);
        return new DifferentiableGraph(graph, dtype, new Options(false, names)).forward(x);
    }

    private static void checkArguments(OnnxGraph graph, Tensor x, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F64) throw new IllegalArgumentException("dtype " + dtype + " must be F32 or F64");
        if (!differentiable(x.dtype())) throw new IllegalArgumentException("input has dtype " + x.dtype() + ", expected float32 or float64");
        OnnxValidator.validate(graph);
        if (graph.inputs().size() != 1) {
            throw new IllegalArgumentException("vjp needs a model with exactly one input, this one has " + graph.inputs().size());
        }
        checkInputShape(graph.inputs().get(0), x.shape());
    }

    private static void checkNames(OnnxGraph graph, java.util.Set<String> names) {
        java.util.Set<String> known = new java.util.HashSet<>();
        known.add(graph.inputs().get(0).name());
        for (OnnxNode n : graph.nodes()) known.addAll(n.outputs());
        for (String name : names) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("no value named '" + name + "' in the graph (names are node outputs or the input '"
                        + graph.inputs().get(0).name() + "')");
            }
        }
    }

    private static void checkInputShape(OnnxGraph.ValueInfo in, int[] shape) {
        int[] d = in.dims();
        boolean ok = d == null || d.length == 0 || d.length == shape.length;
        for (int i = 0; ok && d != null && i < d.length && d.length == shape.length; i++) ok = d[i] < 0 || d[i] == shape[i];
        if (!ok) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(shape) + ", the model's input '" + in.name()
                    + "' expects " + Arrays.toString(d) + " (-1 = any)");
        }
    }

    private Gradients run(Tensor x, Tensor gradOutput) {
        Tensor outputCopy = null, inputGrad = null;
        Map<String, Tensor> grads = new LinkedHashMap<>();
        try (Scope scope = Scope.open()) {
            Variable xv = Variable.parameter(converted(x), "input");
            Variable y = forwardPass(xv);
            if (!Arrays.equals(y.shape(), gradOutput.shape())) {
                throw new IllegalArgumentException("grad-output has shape " + Arrays.toString(gradOutput.shape()) + ", expected the output's shape "
                        + Arrays.toString(y.shape()));
            }
            outputCopy = y.value().to(dtype);
            y.backward(converted(gradOutput));
            inputGrad = takeGrad(xv);
            for (var e : parameters.entrySet()) grads.put(e.getKey(), takeGrad(e.getValue()));
            for (String name : tapped.keySet()) tappedGradients.computeIfAbsent(name, k -> Tensor.zeros(dtype, tapped.get(k).shape()));
            Gradients r = new Gradients(outputCopy, inputGrad, grads, tapped, tappedGradients);
            outputCopy = null;
            inputGrad = null;
            grads = null;
            return r;
        } catch (RuntimeException e) {
            for (Tensor t : tapped.values()) t.close();
            for (Tensor t : tappedGradients.values()) t.close();
            throw e;
        } finally {
            if (outputCopy != null) outputCopy.close();
            if (inputGrad != null) inputGrad.close();
            if (grads != null) for (Tensor t : grads.values()) t.close();
            for (Variable p : parameters.values()) p.releaseGrad();
        }
    }

    private Values forward(Tensor x) {
        try (Scope scope = Scope.open(); tessera.autograd.GradMode off = tessera.autograd.GradMode.off()) {
            Variable y = forwardPass(Variable.constant(converted(x)));
            return new Values(y.value().to(dtype), tapped);
        } catch (RuntimeException e) {
            for (Tensor t : tapped.values()) t.close();
            throw e;
        }
    }

    /** Runs every node from input {@code xv}; returns the first output. Tapped values are copied as they appear. */
    private Variable forwardPass(Variable xv) {
        String inName = graph.inputs().get(0).name();
        values.put(inName, xv);
        tapIfAsked(inName);
        for (var e : graph.initializers().entrySet()) {
            Tensor t = e.getValue();
            if (differentiable(t.dtype())) {
                Variable p = options.initializerGradients() ? Variable.parameter(converted(t), e.getKey()) : Variable.constant(converted(t));
                if (options.initializerGradients()) parameters.put(e.getKey(), p);
                values.put(e.getKey(), p);
            } else {
                values.put(e.getKey(), CVal.of(t));
            }
        }
        for (OnnxNode n : graph.nodes()) {
            try {
                node(n);
            } catch (OnnxFormatException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new OnnxFormatException(n.describe() + ": " + e.getMessage(), e);
            }
            for (String out : n.outputs()) tapIfAsked(out);
        }
        String outName = graph.outputs().get(0);
        Object o = values.get(outName);
        if (!(o instanceof Variable y)) {
            throw new OnnxFormatException("graph output '" + outName + "' is " + (o == null ? "never computed" : "a constant") + ", nothing to differentiate");
        }
        return y;
    }

    /** When {@code name} is tapped: keeps a copy of its value and routes every later use through a gradient tap. */
    private void tapIfAsked(String name) {
        if (!options.taps().contains(name) || tapped.containsKey(name)) return;
        Object o = values.get(name);
        if (!(o instanceof Variable v)) throw new IllegalArgumentException("value '" + name + "' is a constant, it has no gradient to tap");
        tapped.put(name, v.value().to(dtype));
        values.put(name, Ops.tap(v, g -> {
            Tensor owned = Tensor.zeros(dtype, g.shape());
            owned.copyFrom(g);
            Tensor previous = tappedGradients.put(name, owned);
            if (previous != null) previous.close();
        }));
    }

    /** The leaf's gradient as an owned tensor (zeros when no path reaches the output). */
    private Tensor takeGrad(Variable v) {
        Tensor g = v.grad();
        Tensor r = Tensor.zeros(dtype, v.shape());
        if (g != null) r.copyFrom(g);
        return r;
    }

    /** A contiguous copy of {@code t} in the computation dtype, owned by the current scope. */
    private Tensor converted(Tensor t) {
        Tensor c = Scope.alloc(dtype, t.shape());
        c.copyFrom(t);
        return c;
    }

    // ------------------------------------------------------------------ values

    private Object value(OnnxNode n, int k) {
        Object o = values.get(n.input(k));
        if (o == null) throw new OnnxFormatException(n.describe() + ": input '" + n.input(k) + "' is not defined");
        return o;
    }

    /** Element types vjp computes in (every other type is refused with the node named). */
    private static boolean differentiable(DType t) { return t == DType.F32 || t == DType.F64; }

    /** Input k as a differentiable value; constants become non-trainable variables in the computation dtype. */
    private Variable var(OnnxNode n, int k) {
        Object o = value(n, k);
        if (o instanceof Variable v) return v;
        if (o instanceof CVal c) {
            if (!differentiable(c.dtype())) {
                throw new OnnxFormatException(n.describe() + ": input " + k + " ('" + n.input(k) + "') is a " + c.dtype()
                        + " constant, expected float32 or float64 (vjp differentiates those only)");
            }
            return Variable.constant(tensorOf(c));
        }
        throw new OnnxFormatException(n.describe() + ": input '" + n.input(k) + "' holds MaxPool indices, usable only by MaxUnpool");
    }

    /** Input k as a constant (a leaf parameter's current value is read as a constant, with no gradient). */
    private CVal cval(OnnxNode n, int k) {
        if (!n.hasInput(k)) return null;
        Object o = value(n, k);
        if (o instanceof CVal c) return c;
        if (o instanceof Variable v && v.isLeaf() && v.value().numel() <= ConstEval.MAX_ELEMENTS) return CVal.of(v.value());
        throw new OnnxFormatException(n.describe() + ": input " + k + " ('" + n.input(k) + "') must be a constant here, but it is computed");
    }

    private Tensor tensorOf(CVal c) {
        int[] shape = c.rank() == 0 ? new int[] {1} : c.shape();
        Tensor t = Scope.alloc(dtype, shape);
        double[] d = c.data();
        if (dtype == DType.F64) {
            MemorySegment.copy(d, 0, t.segment(), ValueLayout.JAVA_DOUBLE_UNALIGNED, t.offset() * 8, d.length);
        } else {
            float[] f = new float[d.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) d[i];
            MemorySegment.copy(f, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset() * 4, f.length);
        }
        return t;
    }

    private int[] shapeOf(OnnxNode n, int k) {
        Object o = value(n, k);
        return o instanceof Variable v ? v.shape() : o instanceof CVal c ? c.shape() : ((PoolIndices) o).indices().shape();
    }

    private void put(OnnxNode n, Object v) { values.put(n.outputs().get(0), v); }

    /** Dropout's mask output in inference: every element kept (a constant all-true bool tensor). */
    private void dropoutMask(OnnxNode n) {
        if (!n.opType().equals("Dropout") || n.outputs().size() < 2 || n.outputs().get(1).isEmpty()) return;
        Object x = value(n, 0);
        int[] s = x instanceof Variable v ? v.shape() : ((CVal) x).shape();
        double[] ones = new double[(int) ShapeMath.numel(s)];
        Arrays.fill(ones, 1);
        values.put(n.outputs().get(1), new CVal(DType.U8, s, ones));
    }

    /** Input k as a constant (see {@link #cval}), or null when it is absent or computed. */
    private CVal constantOrNull(OnnxNode n, int k) {
        if (!n.hasInput(k)) return null;
        Object o = value(n, k);
        if (o instanceof Variable v && !(v.isLeaf() && v.value().numel() <= ConstEval.MAX_ELEMENTS)) return null;
        return o instanceof PoolIndices ? null : cval(n, k);
    }

    /**
     * Training-mode Dropout ({@link TrainingDropout}): y = x · (mask / (1 − r)) with the mask a constant of this pass,
     * so ∂y/∂x = mask / (1 − r); the mask output is a bool constant.
     */
    private void trainingDropout(OnnxNode n, double r) {
        int[] s = shapeOf(n, 0);
        double[] keep = TrainingDropout.keep(TrainingDropout.seed(n), r, (int) ShapeMath.numel(s));
        double scale = 1 / (1 - r);
        double[] scaled = new double[keep.length];
        for (int i = 0; i < keep.length; i++) scaled[i] = keep[i] * scale;
        if (value(n, 0) instanceof CVal c) {
            if (!c.dtype().isFloatingPoint()) throw bad(n, "input '" + n.input(0) + "' is " + c.dtype() + ", expected a floating-point type");
            double[] y = new double[keep.length];
            for (int i = 0; i < y.length; i++) y[i] = tessera.memory.Elements.round(c.dtype(), keep[i] * c.data()[i] * scale);
            put(n, new CVal(c.dtype(), s, y));
        } else {
            put(n, eltwise.binary(Elementwise.MUL, var(n, 0), Variable.constant(eltwise.tensor(s, scaled))));
        }
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) values.put(n.outputs().get(1), new CVal(DType.U8, s, keep));
    }

    // ------------------------------------------------------------------ nodes

    private void node(OnnxNode n) {
        String op = n.opType();
        if (op.equals("Constant")) {
            put(n, constantValue(n));
            return;
        }
        if (op.equals("Shape")) {
            Object o = value(n, 0);
            int[] s = o instanceof Variable v ? v.shape() : o instanceof CVal c ? c.shape() : ((PoolIndices) o).indices().shape();
            put(n, ConstEval.eval(n, List.of(new CVal(DType.F32, s, new double[0]))));
            return;
        }
        if (n.has(tessera.onnx.OpsetNormalizer.LEGACY_AXIS)) tessera.onnx.OpsetNormalizer.checkLegacyBroadcast(n, shapeOf(n, 0), shapeOf(n, 1));
        if (op.equals("Dropout")) {
            double r = TrainingDropout.ratio(n, k -> constantOrNull(n, k));
            if (r > 0) {
                trainingDropout(n, r);
                return;
            }
        }
        boolean allConst = true;
        for (int k = 0; k < n.inputs().size(); k++) if (n.hasInput(k) && !(value(n, k) instanceof CVal)) allConst = false;
        if (allConst && ConstEval.FOLDABLE.contains(op)) {
            List<CVal> args = new ArrayList<>();
            for (int k = 0; k < n.inputs().size(); k++) args.add(n.hasInput(k) ? (CVal) value(n, k) : null);
            put(n, ConstEval.eval(n, args));
            dropoutMask(n);
            return;
        }
        dropoutMask(n);
        put(n, switch (op) {
            case "Identity", "Dropout" -> var(n, 0);
            case "Cast" -> {
                OpArgs.Cast c = n.args(OpArgs.Cast.class);
                DType to = c.to();
                Variable x = var(n, 0);
                if (differentiable(to)) yield x;
                if (!c.bool()) throw bad(n, "casting a computed float tensor to " + to + " is not differentiable (vjp computes in float32 or float64 only)");
                double[] v = x.value().toDoubleArray();
                for (int i = 0; i < v.length; i++) v[i] = v[i] != 0 ? 1 : 0;
                yield Variable.constant(eltwise.tensor(x.shape(), v));
            }
            case "Conv" -> conv(n);
            case "ConvTranspose" -> convTranspose(n);
            case "MaxPool", "AveragePool", "LpPool" -> pool(n);
            case "GlobalAveragePool" -> Ops.globalAvgPool(rank(n, var(n, 0), 4));
            case "GlobalMaxPool" -> Ops.globalMaxPool(rank(n, var(n, 0), 4));
            case "MaxUnpool" -> maxUnpool(n);
            case "BatchNormalization" -> batchNorm(n);
            case "LRN" -> {
                OpArgs.Lrn a = n.args(OpArgs.Lrn.class);
                yield Ops.localResponseNorm(var(n, 0), a.size(), a.alpha(), a.beta(), a.bias());
            }
            case "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "Mish", "Selu", "HardSigmoid", "HardSwish" ->
                    Ops.activation(var(n, 0), n.args(OpArgs.Act.class).fn());
            case "Clip" -> clip(n);
            case "PRelu" -> prelu(n);
            case "Softmax", "LogSoftmax" -> softmax(n);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matmul(n);
            case "Add", "Sub", "Mul", "Div", "Sum", "Pow", "Min", "Max", "Equal", "Greater", "Less", "Neg", "Abs", "Sign", "Sqrt", "Exp",
                    "Log", "Reciprocal", "Erf", "Ceil", "Floor", "Softsign" -> {
                Elementwise e = n.args(OpArgs.Eltwise.class).op();
                if (e.unary()) yield eltwise.unary(e, var(n, 0));
                Variable acc = var(n, 0);
                for (int k = 1; k < n.inputs().size(); k++) acc = eltwise.binary(e, acc, var(n, k));
                yield acc;
            }
            case "Where" -> eltwise.where(value(n, 0) instanceof CVal c ? Variable.constant(tensorOf(c)) : var(n, 0), var(n, 1), var(n, 2));
            case "Concat" -> {
                List<Variable> xs = new ArrayList<>();
                for (int k = 0; k < n.inputs().size(); k++) xs.add(var(n, k));
                yield Ops.concat(xs, ShapeMath.axis(n.args(OpArgs.Axis.class).axis(), xs.get(0).shape().length, "Concat"));
            }
            case "Flatten" -> {
                Variable x = var(n, 0);
                int[] s = x.shape();
                long axis = n.args(OpArgs.Axis.class).axis();
                int ax = (int) (axis < 0 ? axis + s.length : axis);
                if (ax < 0 || ax > s.length) throw bad(n, "axis " + axis + " is out of range for shape " + Arrays.toString(s));
                yield Ops.reshape(x, (int) ShapeMath.prod(s, 0, ax), (int) ShapeMath.prod(s, ax, s.length));
            }
            case "Reshape" -> {
                Variable x = var(n, 0);
                yield Ops.reshape(x, ShapeMath.reshape(x.shape(), cval(n, 1).toLongs(), n.args(OpArgs.Reshape.class).allowZero()));
            }
            case "Squeeze" -> {
                Variable x = var(n, 0);
                yield Ops.reshape(x, ShapeMath.squeeze(x.shape(), n.hasInput(1) ? cval(n, 1).toLongs() : null));
            }
            case "Unsqueeze" -> {
                Variable x = var(n, 0);
                yield Ops.reshape(x, ShapeMath.unsqueeze(x.shape(), cval(n, 1).toLongs()));
            }
            case "Transpose" -> {
                Variable x = var(n, 0);
                yield Ops.permute(x, n.args(OpArgs.Transpose.class).perm(x.shape().length));
            }
            case "Gather" -> gather(n);
            case "Resize" -> resize(n);
            case "Slice" -> slice(n);
            case "Pad" -> pad(n);
            case "ReduceMean", "ReduceSum", "ReduceMax" -> reduce(n);
            default -> throw bad(n, "operator " + op + " has no differentiable mapping (vjp supports " + String.join(", ", DIFFERENTIABLE) + ")");
        });
        if (op.equals("MaxPool") && n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
            // pool() stored the indices under the second output already
            if (!(values.get(n.outputs().get(1)) instanceof PoolIndices)) throw new IllegalStateException("MaxPool indices missing");
        }
    }

    private static OnnxFormatException bad(OnnxNode n, String msg) { return new OnnxFormatException(n.describe() + ": " + msg); }

    private static Variable rank(OnnxNode n, Variable x, int r) {
        if (x.shape().length != r) throw bad(n, "input has shape " + Arrays.toString(x.shape()) + ", expected rank " + r);
        return x;
    }

    private static CVal constantValue(OnnxNode n) {
        OpArgs.Constant c = n.args(OpArgs.Constant.class);
        return c.tensor() != null ? CVal.of(c.tensor()) : new CVal(c.dtype(), c.shape(), c.values());
    }

    /** Bias input k as a 1-D variable of {@code count} elements, or null when absent. */
    private Variable bias(OnnxNode n, int k, int count) {
        if (!n.hasInput(k)) return null;
        Variable b = var(n, k);
        if (b.value().numel() != count) throw bad(n, "bias '" + n.input(k) + "' has " + b.value().numel() + " elements, expected " + count);
        return b.shape().length == 1 ? b : Ops.reshape(b, count);
    }

    private Variable conv(OnnxNode n) {
        if (var(n, 0).shape().length == 5) {
            Variable x = var(n, 0), w = var(n, 1);
            Conv3dSpec spec = VolumePlans.convSpec(n, x.shape(), w.shape());
            Variable y = Ops.conv3d(x, w, bias(n, 2, spec.outChannels()), spec);
            if (n.hasInput(3)) y = eltwise.binary(Elementwise.ADD, y, var(n, 3));
            return fused(y, n.args(OpArgs.Conv.class).fused());
        }
        Variable x = rank(n, var(n, 0), 4), w = var(n, 1);
        int[] xs = x.shape(), ws = w.shape();
        if (ws.length != 4) throw bad(n, "weight '" + n.input(1) + "' has shape " + Arrays.toString(ws) + ", expected [K, C/group, kH, kW]");
        OpArgs.Conv a = n.args(OpArgs.Conv.class);
        int group = a.group();
        OpArgs.Window win = a.window().forRank(2);
        int[] st = win.strides(), dl = win.dilations();
        int[] pads = win.pads(xs[2], xs[3], ws[2], ws[3]);
        ConvArgs args = new ConvArgs(st[0], st[1], pads[0], pads[1], pads[2], pads[3], dl[0], dl[1], group, 0, 0);
        Variable y = Ops.conv2d(x, w, bias(n, 2, ws[0]), args);
        // an optimizer-fused node (not in files, but the table accepts it): y = act(conv + residual)
        if (n.hasInput(3)) y = eltwise.binary(Elementwise.ADD, y, var(n, 3));
        return fused(y, a.fused());
    }

    /** Applies the activation the optimizer fused into a Conv or Gemm (none in a graph read from a file). */
    private static Variable fused(Variable y, OpArgs.Fused f) { return f.isNone() ? y : Ops.activation(y, f.fn()); }

    private Variable convTranspose(OnnxNode n) {
        if (var(n, 0).shape().length == 5) {
            Variable x = var(n, 0), w = var(n, 1);
            ConvTranspose3dSpec spec = VolumePlans.convTransposeSpec(n, x.shape(), w.shape());
            return Ops.convTranspose3d(x, w, bias(n, 2, spec.outChannels()), spec);
        }
        Variable x = rank(n, var(n, 0), 4), w = var(n, 1);
        int[] xs = x.shape(), ws = w.shape();
        if (ws.length != 4) throw bad(n, "weight must be [Cin, Cout/group, kH, kW], got " + Arrays.toString(ws));
        OpArgs.ConvTranspose a = n.args(OpArgs.ConvTranspose.class);
        int group = a.group();
        int[] st = a.window().forRank(2).strides(), dl = a.window().forRank(2).dilations();
        OpArgs.ConvTranspose.Resolved r = a.resolve(xs[2], xs[3], ws[2], ws[3]);
        int[] pads = r.pads(), op = r.outputPadding();
        ConvArgs args = new ConvArgs(st[0], st[1], pads[0], pads[1], pads[2], pads[3], dl[0], dl[1], group, op[0], op[1]);
        return Ops.convTranspose2d(x, w, bias(n, 2, ws[1] * group), args);
    }

    private Variable pool(OnnxNode n) {
        if (var(n, 0).shape().length == 5) {
            if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
                throw bad(n, "the indices output of a 3-D MaxPool is not available in vjp (inference computes it; only 2-D indices feed MaxUnpool)");
            }
            return Ops.pool3d(var(n, 0), VolumePlans.poolSpec(n, var(n, 0).shape()));
        }
        Variable x = rank(n, var(n, 0), 4);
        int[] xs = x.shape();
        OpArgs.Pool a = n.args(OpArgs.Pool.class);
        PoolSpec spec = a.spec(xs[2], xs[3]);
        PoolType type = a.type();
        if (type == PoolType.MAX && n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
            if (a.columnMajor()) throw bad(n, "attribute 'storage_order' = 1: column-major indices have no differentiable mapping (MaxUnpool reads row-major ones)");
            Variable[] r = Ops.maxPool2dWithIndices(x, spec);
            values.put(n.outputs().get(1), new PoolIndices(r[1].value()));
            return r[0];
        }
        return Ops.pool2d(x, spec);
    }

    private Variable maxUnpool(OnnxNode n) {
        Variable x = rank(n, var(n, 0), 4);
        if (!(value(n, 1) instanceof PoolIndices idx)) {
            throw bad(n, "indices '" + n.input(1) + "' must come straight from a MaxPool's second output");
        }
        int[] xs = x.shape();
        int[] ys = OpPlans.maxUnpoolShape(n, xs, n.hasInput(2) ? cval(n, 2).toLongs() : null);
        return Ops.maxUnpool(x, idx.indices(), ys[2], ys[3]);
    }

    /** Eval-mode batch norm as differentiable arithmetic, so γ, β, mean and var all receive their gradients. */
    private Variable batchNorm(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        if (xs.length < 2) throw bad(n, "input shape " + Arrays.toString(xs) + " needs rank >= 2");
        int c = xs[1];
        int[] bshape = new int[xs.length];
        Arrays.fill(bshape, 1);
        bshape[1] = c;
        Variable[] p = new Variable[4];
        for (int k = 0; k < 4; k++) {
            Variable v = var(n, k + 1);
            if (v.value().numel() != c) throw bad(n, "parameter '" + n.input(k + 1) + "' has " + v.value().numel() + " elements, expected C = " + c);
            p[k] = Ops.reshape(v, bshape);
        }
        Variable eps = Variable.constant(tensorOf(new CVal(DType.F64, new int[] {1}, new double[] {n.args(OpArgs.BatchNorm.class).epsilon()})));
        Variable scale = Ops.div(p[0], Ops.sqrt(Ops.add(p[3], eps)));
        return Ops.add(Ops.mul(Ops.sub(x, p[2]), scale), p[1]);
    }

    private Variable clip(OnnxNode n) {
        double lo = n.hasInput(1) ? cval(n, 1).data()[0] : Double.NEGATIVE_INFINITY;
        double hi = n.hasInput(2) ? cval(n, 2).data()[0] : Double.POSITIVE_INFINITY;
        Variable x = var(n, 0);
        if (Double.isNaN(lo) || Double.isNaN(hi) || lo > hi) throw bad(n, "min " + lo + " > max " + hi + " (or NaN)");
        if (lo == 0 && hi == Double.POSITIVE_INFINITY) return Ops.activation(x, ActivationFn.RELU);
        // PyTorch's clamp gradient: 1 inside [lo, hi] (bounds included), 0 outside
        return Ops.activation(x, ActivationFn.clip((float) lo, (float) hi));
    }

    private Variable prelu(OnnxNode n) {
        Variable x = var(n, 0), slope = var(n, 1);
        if (!OpPlans.preluPerChannel(n, x.shape(), slope.shape())) return eltwise.binary(Elementwise.PRELU, x, slope);
        long count = slope.value().numel();
        return Ops.prelu(x, slope.shape().length == 1 ? slope : Ops.reshape(slope, (int) count));
    }

    private Variable softmax(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        OpArgs.Softmax a = n.args(OpArgs.Softmax.class);
        int ax = ShapeMath.axis(a.axis(), xs.length, n.describe());
        return a.log() ? Ops.logSoftmax(x, ax) : Ops.softmax(x, ax);
    }

    private Variable gemm(OnnxNode n) {
        Variable a = var(n, 0), b = var(n, 1);
        if (a.shape().length != 2 || b.shape().length != 2) {
            throw bad(n, "inputs must be 2-D, got " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
        OpArgs.Gemm ga = n.args(OpArgs.Gemm.class);
        if (ga.transA()) a = Ops.permute(a, 1, 0);
        boolean tb = ga.transB();
        int kb = tb ? b.dim(1) : b.dim(0);
        if (a.dim(1) != kb) throw bad(n, "inner dimensions differ: A " + Arrays.toString(a.shape()) + " and B " + Arrays.toString(b.shape()) + (tb ? "ᵀ" : ""));
        Variable y = tb ? Ops.linear(a, b, null) : Ops.matmul(a, b);
        float alpha = ga.alpha(), beta = ga.beta();
        if (alpha != 1f) y = Ops.scale(y, alpha);
        if (n.hasInput(2) && beta != 0f) {
            Variable c = var(n, 2);
            y = Ops.add(y, beta == 1f ? c : Ops.scale(c, beta));
        }
        return fused(y, ga.fused());
    }

    private Variable matmul(OnnxNode n) {
        Variable a = var(n, 0), b = var(n, 1);
        int[] as = a.shape(), bs = b.shape();
        if (as.length < 2 || bs.length != 2) {
            throw bad(n, "only [..., m, k] × [k, n] is differentiable here, got " + Arrays.toString(as) + " × " + Arrays.toString(bs));
        }
        if (as[as.length - 1] != bs[0]) throw bad(n, "inner dimensions differ: " + Arrays.toString(as) + " × " + Arrays.toString(bs));
        if (as.length == 2) return Ops.matmul(a, b);
        int rows = (int) (ShapeMath.numel(as) / bs[0]);
        int[] ys = as.clone();
        ys[ys.length - 1] = bs[1];
        return Ops.reshape(Ops.matmul(Ops.reshape(a, rows, bs[0]), b), ys);
    }

    private Variable gather(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        int ax = ShapeMath.axis(n.args(OpArgs.Axis.class).axis(), xs.length, n.describe());
        CVal idx = cval(n, 1);
        long[] ks = idx.toLongs();
        List<Variable> parts = new ArrayList<>();
        for (long k0 : ks) {
            long k = k0 < 0 ? k0 + xs[ax] : k0;
            if (k < 0 || k >= xs[ax]) throw bad(n, "index " + k0 + " is out of range for axis " + ax + " of size " + xs[ax]);
            parts.add(Ops.slice(x, ax, (int) k, (int) k + 1, 1));
        }
        Variable y = parts.size() == 1 ? parts.get(0) : Ops.concat(parts, ax);
        int[] os = new int[xs.length - 1 + idx.rank()];
        System.arraycopy(xs, 0, os, 0, ax);
        System.arraycopy(idx.shape(), 0, os, ax, idx.rank());
        System.arraycopy(xs, ax + 1, os, ax + idx.rank(), xs.length - ax - 1);
        return Ops.reshape(y, os);
    }

    private Variable slice(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        ShapeMath.SliceRange r = ShapeMath.slice(xs, cval(n, 1).toLongs(), cval(n, 2).toLongs(),
                n.hasInput(3) ? cval(n, 3).toLongs() : null, n.hasInput(4) ? cval(n, 4).toLongs() : null);
        int[][] s = {r.starts(), r.steps(), r.shape()};
        Variable y = x;
        for (int d = 0; d < xs.length; d++) {
            if (s[0][d] == 0 && s[1][d] == 1 && s[2][d] == xs[d]) continue;
            if (s[2][d] == 0) throw bad(n, "the slice along axis " + d + " is empty");
            if (s[1][d] < 0) {
                // negative step: the elements start, start + step, ... as unit slices in that order
                List<Variable> parts = new ArrayList<>();
                for (int i = 0; i < s[2][d]; i++) {
                    int at = s[0][d] + i * s[1][d];
                    parts.add(Ops.slice(y, d, at, at + 1, 1));
                }
                y = parts.size() == 1 ? parts.get(0) : Ops.concat(parts, d);
                continue;
            }
            int start = s[0][d];
            y = Ops.slice(y, d, start, start + (s[2][d] - 1) * s[1][d] + 1, s[1][d]);
        }
        return y;
    }

    private Variable pad(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        long[] pads = cval(n, 1).toLongs();
        double value = n.hasInput(2) ? cval(n, 2).data()[0] : 0;
        String mode = n.args(OpArgs.Pad.class).mode();
        int r = xs.length;
        if (pads.length != 2 * r) throw bad(n, "pads " + Arrays.toString(pads) + " must have " + 2 * r + " values");
        if (!mode.equals("constant")) throw bad(n, "Pad mode '" + mode + "' has no differentiable mapping (constant mode only)");
        for (int d = 0; d < r; d++) {
            if ((d < r - 2 && (pads[d] != 0 || pads[d + r] != 0)) || pads[d] < 0 || pads[d + r] < 0) {
                throw bad(n, "pads " + Arrays.toString(pads) + ": only non-negative padding of the last two dimensions is differentiable");
            }
        }
        if (r < 2) throw bad(n, "input of rank " + r + " cannot be padded in 2-D");
        return Ops.pad2d(x, (int) pads[r - 2], (int) pads[r - 1], (int) pads[2 * r - 2], (int) pads[2 * r - 1], value);
    }

    /** Resize as a linear map with its transpose as the gradient (plain loops in float64). */
    private Variable resize(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        OpPlans.ResizeTables t = OpPlans.resizeTables(n, xs, cval(n, 1), cval(n, 2), cval(n, 3));
        int[] os = t.outShape();
        int inH = xs[2], inW = xs[3], outH = os[2], outW = os[3], planes = xs[0] * xs[1], k = t.taps();
        double[] xv = x.value().toDoubleArray(), yv = new double[planes * outH * outW];
        for (int pl = 0; pl < planes; pl++) {
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) yv[(pl * outH + oh) * outW + ow] = t.value(i -> xv[i], pl * inH * inW, inW, oh, ow);
            }
        }
        return Ops.custom("resize", tensorOf(new CVal(DType.F64, os, yv)), g -> {
            double[] gv = g.toDoubleArray(), dx = new double[xv.length];
            for (int pl = 0; pl < planes; pl++) {
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++) {
                        if (t.ih()[k * oh] < 0 || t.iw()[k * ow] < 0) continue; // extrapolated: no dependence on x
                        double gy = gv[(pl * outH + oh) * outW + ow];
                        for (int a = 0; a < k; a++) {
                            for (int b = 0; b < k; b++) {
                                dx[(pl * inH + t.ih()[k * oh + a]) * inW + t.iw()[k * ow + b]] += t.wh()[k * oh + a] * t.ww()[k * ow + b] * gy;
                            }
                        }
                    }
                }
            }
            return new Tensor[] {tensorOf(new CVal(DType.F64, xs, dx))};
        }, x);
    }

    private Variable reduce(OnnxNode n) {
        Variable x = var(n, 0);
        int[] xs = x.shape();
        OpArgs.Reduce a = n.args(OpArgs.Reduce.class);
        if (a.noopWithEmptyAxes() && (!n.hasInput(1) || cval(n, 1).toLongs().length == 0)) return x;
        int[] ax = ShapeMath.reduceAxes(n.hasInput(1) ? cval(n, 1).toLongs() : null, xs.length, n.describe());
        Variable y = switch (a.kind()) {
            case MEAN -> Ops.mean(x, ax);
            case SUM -> Ops.sum(x, ax);
            case MAX -> eltwise.reduceMax(x, ax);
        };
        if (a.keepdims()) return y;
        long[] all = new long[ax.length];
        for (int i = 0; i < ax.length; i++) all[i] = ax[i];
        return Ops.reshape(y, ShapeMath.squeeze(y.shape(), all));
    }
}
