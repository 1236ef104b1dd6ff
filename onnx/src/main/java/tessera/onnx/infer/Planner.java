package tessera.onnx.infer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Builds a {@link Specialization} for concrete input shapes: shape inference, folding of everything whose inputs
 * are known (Shape/Gather/Unsqueeze/Concat chains included), view ops as aliases, one step per kernel call, and the
 * liveness-based memory plan. Errors name the node. Empty tensors (a 0-size dimension) follow {@link EmptyTensors}.
 */
final class Planner {
    private final SessionModel model;
    private final TensorArena arena; // for constants folded by this specialization
    final List<Specialization.Value> values = new ArrayList<>();
    final List<Specialization.Step> steps = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    /** The node being planned (labels its steps), null outside {@link #planNode}. */
    private OnnxNode current;

    Planner(SessionModel model, TensorArena arena) {
        this.model = model;
        this.arena = arena;
    }

    Specialization plan(int[][] inputShapes) {
        var inputs = model.inputs;
        int[] inputIds = new int[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            inputIds[i] = dynamic(inputs.get(i).name(), inputShapes[i], DType.F32);
            values.get(inputIds[i]).def = -1;
        }
        for (var e : model.constants.entrySet()) {
            if (!ids.containsKey(e.getKey())) constant(e.getKey(), e.getValue());
        }
        for (OnnxNode n : model.nodes) {
            try {
                current = n;
                planNode(n);
            } catch (OnnxFormatException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new OnnxFormatException(n.describe() + ": " + e.getMessage(), e);
            } finally {
                current = null;
            }
        }
        int[] outputIds = new int[model.outputs.size()];
        for (int i = 0; i < outputIds.length; i++) {
            Integer id = ids.get(model.outputs.get(i));
            if (id == null) throw new OnnxFormatException("graph output '" + model.outputs.get(i) + "' is never computed");
            Specialization.Value v = values.get(id);
            if (v.constant != null) {
                // constant output: copy it into an activation buffer so outputs are uniform
                int y = dynamic(v.name + "#out", v.shape, v.dtype);
                Tensor c = v.constant;
                step("output " + v.name, new int[0], new int[] {y}, t -> new DataOps.StridedCopy(c, t[y]));
                id = y;
            }
            outputIds[i] = id;
        }
        // liveness: a read of an alias extends its root
        for (int s = 0; s < steps.size(); s++) {
            for (int r : steps.get(s).reads()) touch(r, s);
        }
        for (int o : outputIds) touch(o, Integer.MAX_VALUE);
        long bytes = MemoryPlanner.assign(values);
        return new Specialization(inputShapes, List.copyOf(values), List.copyOf(steps), inputIds, outputIds, bytes);
    }

    private void touch(int id, int step) {
        Specialization.Value v = values.get(id);
        if (v.constant != null) return;
        Specialization.Value root = values.get(v.root);
        root.lastUse = Math.max(root.lastUse, step);
    }

    // ------------------------------------------------------------------ value table

    private int add(Specialization.Value v) {
        values.add(v);
        ids.put(v.name, values.size() - 1);
        return values.size() - 1;
    }

    int dynamic(String name, int[] shape, DType dt) {
        Specialization.Value v = new Specialization.Value(name, shape.clone(), dt, null, values.size());
        v.def = steps.size();
        v.lastUse = steps.size();
        return add(v);
    }

    int constant(String name, Tensor t) { return add(new Specialization.Value(name, t.shape(), t.dtype(), t, -1)); }

    int alias(String name, int of, int[] shape) {
        Specialization.Value src = values.get(of);
        if (src.constant != null) return constant(name, src.constant.reshape(shape));
        return add(new Specialization.Value(name, shape.clone(), src.dtype, null, src.root));
    }

    /** Adds a step; one whose outputs are all empty runs nothing ({@link EmptyTensors#noKernel}). */
    void step(String node, int[] reads, int[] writes, Specialization.Binder b) {
        boolean empty = EmptyTensors.noKernel(current, values, reads, writes);
        for (int w : writes) {
            Specialization.Value v = values.get(w);
            v.def = steps.size();
            v.lastUse = Math.max(v.lastUse, steps.size());
        }
        steps.add(new Specialization.Step(node, opLabel(current), empty ? "empty" : "", reads, writes, empty ? EmptyTensors.NOTHING : b));
    }

    /** Names the algorithm of the step just added (shown by profiles). */
    void algorithm(String name) {
        Specialization.Step s = steps.removeLast();
        if (s.binder() == EmptyTensors.NOTHING) {
            steps.add(s);
            return;
        }
        steps.add(new Specialization.Step(s.node(), s.op(), name, s.reads(), s.writes(), s.binder()));
    }

    /**
     * The op type of a node with what the optimizer fused into it, activations with their parameters: {@code Conv},
     * {@code Conv+Clip(0,6)}, {@code Conv+BatchNormalization+Add+Relu}, {@code Gemm+LeakyRelu(0.01)}; "Copy" for
     * steps of no node (constant outputs).
     */
    static String opLabel(OnnxNode n) {
        if (n == null) return "Copy";
        StringBuilder b = new StringBuilder(n.opType());
        if (n.opType().equals("Conv") && n.inputs().size() > 1 && n.input(1).endsWith(GraphOptimizer.BN_FOLDED_WEIGHT)) {
            b.append("+BatchNormalization");
        }
        if (n.opType().equals("Conv") && n.inputs().size() > 3 && n.hasInput(3)) b.append("+Add");
        OpArgs.Fused f = switch (n.opType()) {
            case "Conv" -> n.args(OpArgs.Conv.class).fused();
            case "Gemm" -> n.args(OpArgs.Gemm.class).fused();
            default -> OpArgs.Fused.NONE;
        };
        if (!f.isNone()) b.append('+').append(f.fn());
        return b.toString();
    }

    Specialization.Value val(int id) { return values.get(id); }

    int in(OnnxNode n, int k) {
        String name = n.input(k);
        Integer id = ids.get(name);
        if (id == null) throw new OnnxFormatException(n.describe() + ": input '" + name + "' is not defined");
        return id;
    }

    int[] shape(OnnxNode n, int k) { return val(in(n, k)).shape.clone(); }

    boolean isConst(OnnxNode n, int k) { return !n.hasInput(k) || val(in(n, k)).constant != null; }

    CVal cval(OnnxNode n, int k) {
        if (!n.hasInput(k)) return null;
        Specialization.Value v = val(in(n, k));
        if (v.constant == null) throw new OnnxFormatException(n.describe() + ": input " + k + " ('" + n.input(k) + "') must be a constant here");
        if (v.constant.numel() > ConstEval.MAX_ELEMENTS) throw new OnnxFormatException(n.describe() + ": constant input '" + n.input(k) + "' is too large to fold");
        return CVal.of(v.constant);
    }

    Tensor constTensor(OnnxNode n, int k) {
        Specialization.Value v = val(in(n, k));
        return v.constant;
    }

    void defineConst(OnnxNode n, int out, CVal c) { constant(n.outputs().get(out), c.toTensor(arena)); }

    TensorArena arena() { return arena; }

    SessionModel model() { return model; }

    // ------------------------------------------------------------------ nodes

    private void planNode(OnnxNode n) {
        String op = n.opType();
        boolean allConst = true;
        long size = 0;
        for (int k = 0; k < n.inputs().size(); k++) {
            if (!n.hasInput(k)) continue;
            Specialization.Value v = val(in(n, k));
            if (v.constant == null) allConst = false;
            else size += v.constant.numel();
        }
        if (n.has(tessera.onnx.OpsetNormalizer.LEGACY_AXIS)) tessera.onnx.OpsetNormalizer.checkLegacyBroadcast(n, shape(n, 0), shape(n, 1));
        if (op.equals("Shape")) {
            Specialization.Value x = val(in(n, 0));
            List<CVal> args = new ArrayList<>();
            args.add(new CVal(x.dtype, x.shape, new double[0]));
            defineConst(n, 0, ConstEval.eval(n, args));
            return;
        }
        EmptyTensors.checkInputs(n, values, k -> in(n, k));
        if (op.equals("Dropout")) {
            double r = TrainingDropout.ratio(n, k -> isConst(n, k) ? cval(n, k) : null);
            if (r > 0) {
                TrainingDropout.plan(this, n, r); // never folded: an unseeded mask is drawn afresh every run
                return;
            }
        }
        if (allConst && ConstEval.FOLDABLE.contains(op) && size <= ConstEval.MAX_ELEMENTS) {
            List<CVal> args = new ArrayList<>();
            for (int k = 0; k < n.inputs().size(); k++) args.add(cval(n, k));
            defineConst(n, 0, ConstEval.eval(n, args));
            if (op.equals("Dropout")) OpPlans.dropoutMask(this, n);
            return;
        }
        OpPlans.plan(this, n);
    }

    static String str(int[] s) { return Arrays.toString(s); }
}
