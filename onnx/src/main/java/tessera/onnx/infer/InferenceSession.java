package tessera.onnx.infer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import tessera.kernels.ComputePool;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxGraph;
import tessera.onnx.OnnxLoader;
import tessera.onnx.OnnxValidator;

/**
 * An ONNX model loaded for inference: immutable after construction and safe to share across threads.
 *
 * <p>Load: parse with limits, validate every node, fold constants and batch norms, fuse activations and residual
 * additions into convolutions, pre-pack weights ({@code ConvPlan}s, algorithm per node), and plan activation memory
 * for the declared input shape (symbolic dimensions such as the batch taken as 1). A new input shape (another batch
 * size) is planned once on first use and cached.
 *
 * <p>Run: each calling thread gets its own execution context (activation block and bound kernel calls) cached in a
 * thread-local, so {@link #run(Tensor, Tensor)} allocates nothing on the Java heap in steady state. Inputs are float32
 * {@code [N, C, H, W]} (any strides); outputs have the element type the graph computes (float32 for CNNs; any numeric
 * type after a Cast, bool as U8). A dimension may be 0 (an empty tensor): views, copies and elementwise operators
 * pass it on without running a kernel, Concat and constant Pad fill around it, other operators refuse it naming the
 * node. Training-mode BatchNormalization and Dropout nodes run as the file states them (batch statistics; a random
 * mask, numpy's for a seeded Dropout).
 *
 * <p>Release: {@link #close()} frees the weights and every context's activations at once. It may be called while
 * requests are running: it waits for every call already inside the session (run, profile, outputShape,
 * memoryReport, planning a new shape) to finish, and every call that starts after it throws
 * {@link IllegalStateException} ("InferenceSession is closed") before touching any memory.
 */
public final class InferenceSession implements AutoCloseable {
    private final SessionModel model;
    private final TensorArena specArena = new TensorArena();
    private final ConcurrentHashMap<ShapeKey, Specialization> specs = new ConcurrentHashMap<>();
    private final Set<ExecutionContext> contexts = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<ExecutionContext> local = new ThreadLocal<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final OnnxGraph graph;
    private final GraphOptimizer.Result optimized;
    private final Specialization defaultSpec;
    private volatile boolean closed;

    private record ShapeKey(List<List<Integer>> shapes) {}

    private InferenceSession(OnnxGraph graph, SessionOptions options) {
        this.graph = graph;
        if (options.threads() > 0) ComputePool.setThreads(options.threads());
        OnnxValidator.validate(graph);
        this.optimized = GraphOptimizer.optimize(graph, graph.arena(), options.fuseActivations());
        this.model = new SessionModel(optimized.nodes(), optimized.constants(), graph.inputs(), graph.outputs(),
                graph.arena(), options.algorithm());
        int[][] shapes = new int[graph.inputs().size()][];
        for (int i = 0; i < shapes.length; i++) {
            var in = graph.inputs().get(i);
            if (!"float32".equals(in.elemType())) {
                throw new OnnxFormatException("graph input '" + in.name() + "' has element type " + in.elemType() + "; only float32 inputs are supported");
            }
            if (in.dims() == null) throw new OnnxFormatException("graph input '" + in.name() + "' declares no shape");
            shapes[i] = in.dims().clone();
            for (int d = 0; d < shapes[i].length; d++) if (shapes[i][d] < 0) shapes[i][d] = 1;
        }
        this.defaultSpec = specialization(shapes);
    }

    /** Loads {@code file} with default options. */
    public static InferenceSession load(Path file) { return load(file, SessionOptions.DEFAULT); }

    public static InferenceSession load(Path file, SessionOptions options) {
        OnnxGraph g = OnnxLoader.load(file, options.limits());
        try {
            return new InferenceSession(g, options);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** Loads from bytes; {@code source} names the model in messages. */
    public static InferenceSession load(byte[] bytes, String source, SessionOptions options) {
        OnnxGraph g = OnnxLoader.parse(bytes, source, options.limits());
        try {
            return new InferenceSession(g, options);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** Graph input names in order. */
    public List<String> inputNames() {
        List<String> r = new ArrayList<>();
        for (var v : graph.inputs()) r.add(v.name());
        return r;
    }

    public List<String> outputNames() { return graph.outputs(); }

    /** Declared shape of input {@code i} (-1 for symbolic dimensions). */
    public int[] declaredInputShape(int i) { return graph.inputs().get(i).dims().clone(); }

    /** Names of the model's float initializers (parameters). */
    public List<String> floatInitializerNames() { return graph.floatInitializerNames(); }

    /** Output shapes for the given input shapes (plans them if new). */
    public int[] outputShape(int output, int[]... inputShapes) {
        enter();
        try {
            return specialization(inputShapes).outputShape(output);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Memory plan for the declared input shape. */
    public MemoryReport memoryReport() {
        enter();
        try {
            return report(defaultSpec);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Memory plan for the given input shapes. */
    public MemoryReport memoryReport(int[]... inputShapes) {
        enter();
        try {
            return report(specialization(inputShapes));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * Counts the calling thread in, or throws if the session is closed. {@link #close()} sets {@code closed} first
     * and then waits for the count to reach zero, so a call that got in finishes before anything is freed, and a
     * call that comes later sees {@code closed} (both fields are volatile/atomic, hence sequentially consistent).
     */
    private void enter() {
        inFlight.incrementAndGet();
        if (closed) {
            inFlight.decrementAndGet();
            throw new IllegalStateException("InferenceSession is closed");
        }
    }

    private MemoryReport report(Specialization s) {
        long naive = 0;
        for (int i = 0; i < s.values.size(); i++) {
            var v = s.values.get(i);
            if (v.constant == null && v.root == i) naive += MemoryPlanner.align(v.bytes());
        }
        long weights = graph.arena().bytes() + specArena.bytes();
        for (AutoCloseable p : model.plans.values()) weights += planBytes(p);
        List<String> calls = new ArrayList<>();
        for (var step : s.steps) calls.add(step.node() + ": " + step.op());
        return new MemoryReport(s.inputShapes[0].clone(), s.activationBytes, naive, weights, s.steps.size(),
                optimized.foldedBatchNorms(), optimized.fusedActivations(), optimized.fusedResiduals(), List.copyOf(calls));
    }

    private static long planBytes(AutoCloseable p) {
        try {
            var m = p.getClass().getMethod("bytes");
            return ((Number) m.invoke(p)).longValue();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0; // the plan does not report its size
        }
    }

    private Specialization specialization(int[][] shapes) {
        List<List<Integer>> key = new ArrayList<>();
        for (int[] s : shapes) {
            List<Integer> l = new ArrayList<>();
            for (int d : s) l.add(d);
            key.add(List.copyOf(l));
        }
        if (shapes.length != graph.inputs().size()) {
            throw new IllegalArgumentException("model has " + graph.inputs().size() + " inputs " + inputNames() + ", got " + shapes.length);
        }
        for (int i = 0; i < shapes.length; i++) {
            int[] decl = graph.inputs().get(i).dims();
            if (decl.length != shapes[i].length) {
                throw new IllegalArgumentException("input '" + graph.inputs().get(i).name() + "' has shape " + java.util.Arrays.toString(shapes[i])
                        + ", expected rank " + decl.length + " " + java.util.Arrays.toString(decl) + " (-1 = any)");
            }
            for (int d = 0; d < decl.length; d++) {
                if ((decl[d] >= 0 && decl[d] != shapes[i][d]) || shapes[i][d] < 0) {
                    throw new IllegalArgumentException("input '" + graph.inputs().get(i).name() + "' has shape " + java.util.Arrays.toString(shapes[i])
                            + ", expected " + java.util.Arrays.toString(decl) + " (-1 = any size >= 0)");
                }
            }
        }
        return specs.computeIfAbsent(new ShapeKey(List.copyOf(key)), k -> {
            synchronized (specArena) {
                return new Planner(model, specArena).plan(shapes);
            }
        });
    }

    /** Runs the model on one input; writes the first output into {@code y} (shape {@link #outputShape}). No heap allocation in steady state. */
    public void run(Tensor x, Tensor y) {
        Tensor[][] io = ONE_IN_ONE_OUT.get();
        io[0][0] = x;
        io[1][0] = y;
        try {
            run(io[0], io[1]);
        } finally {
            io[0][0] = null;
            io[1][0] = null;
        }
    }

    /** Per-thread one-element argument arrays of {@link #run(Tensor, Tensor)} (no array allocation per call). */
    private static final ThreadLocal<Tensor[][]> ONE_IN_ONE_OUT = ThreadLocal.withInitial(() -> new Tensor[][] {new Tensor[1], new Tensor[1]});

    /** Runs the model; {@code outputs[k]} receives output k (preallocated with the right shape, float32). */
    public void run(Tensor[] inputs, Tensor[] outputs) {
        enter();
        try {
            contextFor(inputs, outputs).run(inputs, outputs);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * Runs the model {@code runs} times as {@link #run(Tensor[], Tensor[])} does, timing every step, and returns
     * where the time went: per step (node, op with what was fused into it, algorithm, output shape) the mean
     * milliseconds per run, the share of the total and the Java heap bytes the step allocated per run on the calling
     * thread (0 in steady state; pool workers' allocations are not counted). Warm the session up first (a few runs) to profile compiled
     * kernels rather than the JIT's warm-up.
     */
    public NodeProfile profile(Tensor[] inputs, Tensor[] outputs, int runs) {
        if (runs < 1) throw new IllegalArgumentException("runs must be >= 1, got " + runs);
        enter();
        try {
            ExecutionContext ctx = contextFor(inputs, outputs);
            long[] nanos = new long[ctx.spec.steps.size()], bytes = new long[nanos.length];
            for (int r = 0; r < runs; r++) ctx.run(inputs, outputs, nanos, bytes);
            List<NodeProfile.Row> rows = new ArrayList<>();
            long total = 0;
            for (long t : nanos) total += t;
            for (int i = 0; i < nanos.length; i++) {
                Specialization.Step st = ctx.spec.steps.get(i);
                int[] shape = st.writes().length == 0 ? new int[0] : ctx.spec.values.get(st.writes()[0]).shape.clone();
                rows.add(new NodeProfile.Row(st.node(), st.op(), st.algorithm(), shape, nanos[i] / 1e6 / runs,
                        total == 0 ? 0 : 100.0 * nanos[i] / total, (double) bytes[i] / runs));
            }
            return new NodeProfile(rows, runs);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Validates inputs and outputs and returns the calling thread's context for their shapes. */
    private ExecutionContext contextFor(Tensor[] inputs, Tensor[] outputs) {
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null || inputs[i].dtype() != DType.F32) {
                throw new IllegalArgumentException("input " + i + " must be a float32 tensor, got " + (inputs[i] == null ? "null" : inputs[i].dtype()));
            }
        }
        ExecutionContext ctx = local.get();
        if (ctx == null || !ctx.spec.matches(inputs)) ctx = newContext(inputs);
        if (outputs.length > ctx.spec.outputIds.length) {
            throw new IllegalArgumentException(outputs.length + " outputs requested, the model has " + ctx.spec.outputIds.length);
        }
        for (int k = 0; k < outputs.length; k++) {
            int[] want = ctx.spec.values.get(ctx.spec.outputIds[k]).shape;
            Tensor o = outputs[k];
            boolean ok = o != null && o.rank() == want.length;
            for (int d = 0; ok && d < want.length; d++) ok = o.dim(d) == want[d];
            if (!ok) {
                throw new IllegalArgumentException("output " + k + " ('" + graph.outputs().get(k) + "') must have shape "
                        + java.util.Arrays.toString(want) + ", got " + (o == null ? "null" : java.util.Arrays.toString(o.shape())));
            }
        }
        return ctx;
    }

    private ExecutionContext newContext(Tensor[] inputs) {
        int[][] shapes = new int[inputs.length][];
        for (int i = 0; i < inputs.length; i++) shapes[i] = inputs[i].shape();
        Specialization s = specialization(shapes);
        ExecutionContext old = local.get();
        if (old != null) {
            contexts.remove(old);
            old.close();
        }
        ExecutionContext ctx = new ExecutionContext(s);
        contexts.add(ctx);
        local.set(ctx);
        return ctx;
    }

    /** Runs the model on one input and returns its first output as a new tensor (owned by the caller; close it). */
    public Tensor run(Tensor x) {
        enter();
        try {
            Tensor y = Tensor.zeros(DType.F32, outputShape(0, x.shape()));
            try {
                run(x, y);
            } catch (RuntimeException e) {
                y.close();
                throw e;
            }
            return y;
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Runs the model by input name; returns every output by name as new tensors owned by the caller. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        enter();
        try {
            return runByName(inputs);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private Map<String, Tensor> runByName(Map<String, Tensor> inputs) {
        List<String> names = inputNames();
        Tensor[] in = new Tensor[names.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = inputs.get(names.get(i));
            if (in[i] == null) throw new IllegalArgumentException("missing input '" + names.get(i) + "'; the model's inputs are " + names);
        }
        int[][] shapes = new int[in.length][];
        for (int i = 0; i < in.length; i++) shapes[i] = in[i].shape();
        Specialization s = specialization(shapes);
        Tensor[] out = new Tensor[s.outputIds.length];
        Map<String, Tensor> r = new LinkedHashMap<>();
        for (int k = 0; k < out.length; k++) {
            var v = s.values.get(s.outputIds[k]);
            out[k] = Tensor.zeros(v.dtype, v.shape);
            r.put(graph.outputs().get(k), out[k]);
        }
        try {
            run(in, out);
        } catch (RuntimeException e) {
            for (Tensor o : out) o.close();
            throw e;
        }
        return r;
    }

    /** Frees the weights and every thread's activation memory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        while (inFlight.get() > 0) Thread.onSpinWait();
        for (ExecutionContext c : contexts) c.close();
        contexts.clear();
        for (AutoCloseable p : model.plans.values()) {
            try {
                p.close();
            } catch (Exception ignored) {
                // plans free off-heap memory only
            }
        }
        specArena.close();
        graph.close();
    }
}
