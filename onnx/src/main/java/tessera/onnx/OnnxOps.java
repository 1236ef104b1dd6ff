package tessera.onnx;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import tessera.kernels.ActivationFn;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;

/**
 * The operator table: for every supported operator of the default domain, its input count, the parser of its
 * typed arguments ({@link OpArgs}, which also checks every attribute) and whether the inference planner runs it,
 * the differentiable graph differentiates it and constant evaluation folds it. {@link OnnxValidator},
 * {@code InferenceSession}, {@code DifferentiableGraph} and constant folding read their operator sets from here.
 */
public final class OnnxOps {
    /** One operator: type, input count range, argument parser, and what each interpreter does with it. */
    public record Op(String type, int minInputs, int maxInputs, Function<OnnxNode, OpArgs> parser, boolean runs, boolean differentiates,
            boolean folds) {}

    private static final int MANY = Integer.MAX_VALUE;
    /** ONNX's Selu attribute defaults (as float; PyTorch's differ in the last bit, see {@code ActivationFn.SELU_ALPHA}). */
    static final float SELU_ALPHA = 1.67326319217681884765625f, SELU_GAMMA = 1.05070102214813232421875f;
    private static final Map<String, Op> TABLE = new LinkedHashMap<>();

    /** Runs in the planner and the differentiable graph. */
    private static void op(String type, int min, int max, Function<OnnxNode, OpArgs> parser) { put(type, min, max, parser, false); }

    /** Runs in the planner and the differentiable graph, and folds when every input is constant. */
    private static void foldable(String type, int min, int max, Function<OnnxNode, OpArgs> parser) { put(type, min, max, parser, true); }

    private static void put(String type, int min, int max, Function<OnnxNode, OpArgs> parser, boolean folds) {
        TABLE.put(type, new Op(type, min, max, parser, true, true, folds));
    }

    static {
        op("Conv", 2, 4, OpParsers::conv); // a 4th input (residual) only on optimizer-fused nodes
        op("ConvTranspose", 2, 3, OpParsers::convTranspose);
        op("MaxPool", 1, 1, OpParsers::pool);
        op("AveragePool", 1, 1, OpParsers::pool);
        op("LpPool", 1, 1, OpParsers::pool);
        op("GlobalAveragePool", 1, 1, OpParsers::none);
        op("GlobalMaxPool", 1, 1, OpParsers::none);
        op("MaxUnpool", 2, 3, OpParsers::maxUnpool);
        op("BatchNormalization", 5, 5, OpParsers::batchNorm);
        op("LRN", 1, 1, OpParsers::lrn);
        foldable("Dropout", 1, 3, OpParsers::dropout);
        op("Relu", 1, 1, n -> new OpArgs.Act(ActivationFn.relu()));
        op("LeakyRelu", 1, 1, n -> OpParsers.act(n, () -> ActivationFn.leakyRelu(n.getFloat("alpha", 0.01f))));
        op("Elu", 1, 1, n -> OpParsers.act(n, () -> ActivationFn.elu(n.getFloat("alpha", 1f))));
        op("Sigmoid", 1, 1, n -> new OpArgs.Act(ActivationFn.sigmoid()));
        op("Tanh", 1, 1, n -> new OpArgs.Act(ActivationFn.tanh()));
        op("Softplus", 1, 1, n -> new OpArgs.Act(ActivationFn.softplus()));
        op("Mish", 1, 1, n -> new OpArgs.Act(ActivationFn.mish()));
        op("Selu", 1, 1, n -> OpParsers.act(n, () -> ActivationFn.selu(n.getFloat("alpha", SELU_ALPHA), n.getFloat("gamma", SELU_GAMMA))));
        op("HardSigmoid", 1, 1, n -> OpParsers.act(n, () -> ActivationFn.hardSigmoid(n.getFloat("alpha", 0.2f), n.getFloat("beta", 0.5f))));
        op("HardSwish", 1, 1, n -> new OpArgs.Act(ActivationFn.hardSwish()));
        foldable("Clip", 1, 3, OpParsers::none);
        op("PRelu", 2, 2, OpParsers::none);
        op("Softmax", 1, 1, n -> new OpArgs.Softmax(n.getInt("axis", -1), false));
        op("LogSoftmax", 1, 1, n -> new OpArgs.Softmax(n.getInt("axis", -1), true));
        op("Gemm", 2, 3, OpParsers::gemm);
        op("MatMul", 2, 2, OpParsers::none);
        foldable("Add", 2, 2, n -> new OpArgs.Eltwise(Elementwise.ADD));
        foldable("Sub", 2, 2, n -> new OpArgs.Eltwise(Elementwise.SUB));
        foldable("Mul", 2, 2, n -> new OpArgs.Eltwise(Elementwise.MUL));
        foldable("Div", 2, 2, n -> new OpArgs.Eltwise(Elementwise.DIV));
        foldable("Sum", 1, MANY, n -> new OpArgs.Eltwise(Elementwise.ADD));
        foldable("Pow", 2, 2, n -> new OpArgs.Eltwise(Elementwise.POW));
        foldable("Min", 1, MANY, n -> new OpArgs.Eltwise(Elementwise.MIN));
        foldable("Max", 1, MANY, n -> new OpArgs.Eltwise(Elementwise.MAX));
        foldable("Equal", 2, 2, n -> new OpArgs.Eltwise(Elementwise.EQUAL));
        foldable("Greater", 2, 2, n -> new OpArgs.Eltwise(Elementwise.GREATER));
        foldable("Less", 2, 2, n -> new OpArgs.Eltwise(Elementwise.LESS));
        foldable("Neg", 1, 1, n -> new OpArgs.Eltwise(Elementwise.NEG));
        foldable("Abs", 1, 1, n -> new OpArgs.Eltwise(Elementwise.ABS));
        foldable("Sign", 1, 1, n -> new OpArgs.Eltwise(Elementwise.SIGN));
        foldable("Sqrt", 1, 1, n -> new OpArgs.Eltwise(Elementwise.SQRT));
        foldable("Exp", 1, 1, n -> new OpArgs.Eltwise(Elementwise.EXP));
        foldable("Log", 1, 1, n -> new OpArgs.Eltwise(Elementwise.LOG));
        foldable("Reciprocal", 1, 1, n -> new OpArgs.Eltwise(Elementwise.RECIPROCAL));
        foldable("Erf", 1, 1, n -> new OpArgs.Eltwise(Elementwise.ERF));
        foldable("Ceil", 1, 1, n -> new OpArgs.Eltwise(Elementwise.CEIL));
        foldable("Floor", 1, 1, n -> new OpArgs.Eltwise(Elementwise.FLOOR));
        foldable("Softsign", 1, 1, n -> new OpArgs.Eltwise(Elementwise.SOFTSIGN));
        // rewritten at load into the operators above (Decompositions)
        op("Mean", 1, MANY, OpParsers::none);
        op("ReduceMin", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.MAX));
        op("ReduceSumSquare", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.SUM));
        op("ReduceL2", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.SUM));
        op("GlobalLpPool", 1, 1, OpParsers::none);
        op("LayerNormalization", 2, 3, OpParsers::none);
        op("InstanceNormalization", 3, 3, OpParsers::none);
        foldable("DepthToSpace", 1, 1, OpParsers::none);
        foldable("SpaceToDepth", 1, 1, OpParsers::none);
        foldable("Split", 1, 2, OpParsers::none);
        foldable("Tile", 2, 2, OpParsers::none);
        foldable("Expand", 2, 2, OpParsers::none);
        foldable("Where", 3, 3, n -> new OpArgs.Where());
        foldable("Concat", 1, MANY, OpParsers::concat);
        foldable("Flatten", 1, 1, n -> new OpArgs.Axis(n.getInt("axis", 1)));
        foldable("Reshape", 2, 2, OpParsers::reshape);
        foldable("Squeeze", 1, 2, OpParsers::none);
        foldable("Unsqueeze", 2, 2, OpParsers::none);
        foldable("Transpose", 1, 1, n -> new OpArgs.Transpose(n.getIntArray("perm", null)));
        foldable("Shape", 1, 1, n -> new OpArgs.ShapeRange(n.getInt("start", 0), n.has("end") ? n.getInt("end", 0) : null));
        foldable("Gather", 2, 2, n -> new OpArgs.Axis(n.getInt("axis", 0)));
        foldable("Slice", 3, 5, OpParsers::none);
        op("Constant", 0, 0, OpParsers::constant);
        foldable("ConstantOfShape", 1, 1, n -> new OpArgs.ConstantOfShape(n.getTensor("value")));
        foldable("Identity", 1, 1, OpParsers::none);
        op("Pad", 2, 3, OpParsers::pad);
        op("ReduceMean", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.MEAN));
        op("ReduceSum", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.SUM));
        op("ReduceMax", 1, 2, n -> OpParsers.reduce(n, OpArgs.Reduction.MAX));
        foldable("Cast", 1, 1, OpParsers::cast);
        op("Resize", 1, 4, OpParsers::resize);
        op("Upsample", 1, 2, OpParsers::resize); // rewritten to Resize at load (OpsetNormalizer)
    }

    private OnnxOps() {}

    /** The entry for {@code type}, or null when Tessera does not support it. */
    public static Op get(String type) { return TABLE.get(type); }

    /** Every entry, in table order. */
    public static Collection<Op> all() { return Collections.unmodifiableCollection(TABLE.values()); }

    /** Operator types the inference planner runs. */
    public static Set<String> supported() { return types(Op::runs); }

    /** Operator types the differentiable graph differentiates through. */
    public static Set<String> differentiable() { return types(Op::differentiates); }

    /** Operator types constant evaluation folds when all inputs are known. */
    public static Set<String> foldable() { return types(Op::folds); }

    private static Set<String> types(java.util.function.Predicate<Op> p) {
        Set<String> r = new LinkedHashSet<>();
        for (Op o : TABLE.values()) if (p.test(o)) r.add(o.type());
        return Collections.unmodifiableSet(r);
    }

    /** Checks the input count and parses the node's typed arguments (called once per node by {@link OnnxNode#args()}). */
    static OpArgs parse(OnnxNode n) {
        Op op = TABLE.get(n.opType());
        if (op == null) throw OpParsers.bad(n, "is not supported");
        int count = n.inputs().size();
        if (count < op.minInputs() || count > op.maxInputs() || (op.minInputs() > 0 && !n.hasInput(0))) {
            throw OpParsers.bad(n, "has " + count + " inputs " + n.inputs() + ", expected "
                    + (op.minInputs() == op.maxInputs() ? "" + op.minInputs() : op.minInputs() + ".." + (op.maxInputs() == MANY ? "" : op.maxInputs())));
        }
        return op.parser().apply(n);
    }

    static String describe(int[] v) { return Arrays.toString(v); }

    static DType dtype(OnnxNode n, long to) {
        DType d = OnnxTensors.dtypeOf((int) to);
        if (d == null) throw OpParsers.bad(n, "attribute 'to' = " + to + " (" + OnnxTensors.typeName((int) to) + ") is not a supported element type");
        return d;
    }

    static PoolType poolType(String op) {
        return switch (op) {
            case "MaxPool" -> PoolType.MAX;
            case "AveragePool" -> PoolType.AVG;
            default -> PoolType.L2;
        };
    }
}
