package tessera.onnx.infer;

import java.util.List;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Where empty tensors (a dimension of size 0) may go in a plan, so that no kernel ever touches their memory:
 * views, copies, casts and elementwise operators take them (their outputs are empty too: broadcasting 0 with 1 gives
 * 0) and their steps run nothing; Concat and constant-mode Pad make non-empty outputs from them by strided copies
 * (which skip empty tensors) and fills. Every other operator given a computed empty input, and any step that would
 * read an empty tensor to write a non-empty one otherwise, is refused naming the node. Empty constants (Resize's
 * roi or scales) are arguments, not data, and pass.
 */
final class EmptyTensors {
    private EmptyTensors() {}

    /** Operators that take computed empty inputs. */
    static final Set<String> ACCEPTED = Set.of("Identity", "Dropout", "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose",
            "Slice", "Concat", "Pad", "Gather", "Where", "ConstantOfShape", "Add", "Sub", "Mul", "Div", "Sum", "Pow", "Min", "Max",
            "Equal", "Greater", "Less", "Neg", "Abs", "Sign", "Sqrt", "Exp", "Log", "Reciprocal", "Erf", "Ceil", "Floor", "Softsign",
            "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "Mish", "Selu", "HardSigmoid", "HardSwish", "Clip");

    /** The binder of a step whose outputs are all empty: it runs nothing. */
    static final Specialization.Binder NOTHING = v -> () -> { };

    static boolean isEmpty(Specialization.Value v) { return ShapeMath.numel(v.shape) == 0; }

    /** Refuses node {@code n} when an operator outside {@link #ACCEPTED} gets a computed empty input ({@code id} maps input k to its value). */
    static void checkInputs(OnnxNode n, List<Specialization.Value> values, IntUnaryOperator id) {
        if (ACCEPTED.contains(n.opType())) return;
        for (int k = 0; k < n.inputs().size(); k++) {
            if (!n.hasInput(k)) continue;
            Specialization.Value v = values.get(id.applyAsInt(k));
            if (v.constant == null && isEmpty(v)) {
                throw new OnnxFormatException(n.describe() + ": input '" + n.input(k) + "' is empty (shape " + Planner.str(v.shape) + "); "
                        + n.opType() + " on empty tensors is not supported");
            }
        }
    }

    /**
     * True when every output of a step is empty (it runs nothing); refuses a step of node {@code n} (null: a step of
     * no node) that reads an empty tensor to write a non-empty one, unless it is Concat or constant-mode Pad.
     */
    static boolean noKernel(OnnxNode n, List<Specialization.Value> values, int[] reads, int[] writes) {
        boolean allEmpty = writes.length > 0;
        for (int w : writes) allEmpty &= isEmpty(values.get(w));
        if (allEmpty || n == null || n.opType().equals("Concat") || (n.opType().equals("Pad") && n.args(OpArgs.Pad.class).mode().equals("constant"))) {
            return allEmpty;
        }
        for (int r : reads) {
            Specialization.Value v = values.get(r);
            if (isEmpty(v)) {
                throw new OnnxFormatException(n.describe() + ": input '" + v.name + "' is empty (shape " + Planner.str(v.shape)
                        + ") but the output is not; " + n.opType() + " on empty tensors is not supported");
            }
        }
        return false;
    }
}
