package tessera.onnx.infer;

import tessera.kernels.eltwise.Binary;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.onnx.Elementwise;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/**
 * Planning of the elementwise operators: Add/Sub/Mul/Div (and Sum) on the vectorized {@link Binary} kernel; the
 * other unary and binary operators, comparisons and Where on {@link DataOps.Map} and {@link DataOps.Broadcast}
 * with the scalar semantics of {@link Elementwise}. Sum, Min and Max with more inputs fold pairwise from the left.
 * Broadcasting follows {@link Shapes#broadcast}. Booleans are U8 tensors holding 0 or 1. Tensors of other element
 * types run on {@link TypedKernels} (the float32 path is unchanged).
 */
final class EltwisePlans {
    private EltwisePlans() {}

    private static OnnxFormatException bad(OnnxNode n, String msg) { return OpPlans.bad(n, msg); }

    private static void requireDType(Planner p, OnnxNode n, int id, DType dt, String role) {
        var v = p.val(id);
        if (v.dtype != dt) throw bad(n, role + " '" + v.name + "' is " + v.dtype + ", expected " + dt + " for a computed " + n.opType());
    }

    static void plan(Planner p, OnnxNode n) {
        Elementwise op = n.args(OpArgs.Eltwise.class).op();
        String out = n.outputs().get(0);
        if (op.unary()) {
            int x = p.in(n, 0);
            DType t = p.val(x).dtype;
            if (t != DType.F32) {
                boolean intOk = op == Elementwise.NEG || op == Elementwise.ABS || op == Elementwise.SIGN;
                if (!t.isFloatingPoint() && !intOk) throw bad(n, "input '" + p.val(x).name + "' is " + t + "; " + n.opType() + " is defined for floating-point types only");
                int[] s = p.val(x).shape;
                int y = p.dynamic(out, s, t);
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> new TypedKernels.Eltwise(op, new Tensor[] {v[x]}, v[y]));
                return;
            }
            int y = p.dynamic(out, p.val(x).shape, DType.F32);
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> new DataOps.Map(op, v[x], v[y]));
            return;
        }
        if (n.inputs().size() == 1) {
            p.alias(out, p.in(n, 0), p.shape(n, 0));
            return;
        }
        int acc = p.in(n, 0);
        for (int k = 1; k < n.inputs().size(); k++) {
            String name = k == n.inputs().size() - 1 ? out : out + "#partial" + k;
            acc = binary(p, n, op, acc, p.in(n, k), name);
        }
    }

    private static int binary(Planner p, OnnxNode n, Elementwise op, int a, int b, String outName) {
        if (p.val(a).dtype != DType.F32 || p.val(b).dtype != DType.F32) return typedBinary(p, n, op, a, b, outName);
        int[] os = Shapes.broadcast(p.val(a).shape, p.val(b).shape);
        int y = p.dynamic(outName, os, op.comparison() ? DType.U8 : DType.F32);
        Binary.Op fast = switch (op) {
            case ADD -> Binary.Op.ADD;
            case SUB -> Binary.Op.SUB;
            case MUL -> Binary.Op.MUL;
            case DIV -> Binary.Op.DIV;
            default -> null;
        };
        p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> {
            Tensor ta = v[a], tb = v[b], ty = v[y];
            if (fast != null && java.util.Arrays.equals(ta.shape(), os) && java.util.Arrays.equals(tb.shape(), os)
                    && ta.isContiguous() && tb.isContiguous() && ty.isContiguous()) {
                return () -> Binary.applyContiguous(fast, ta, tb, ty);   // allocation-free same-shape form
            }
            if (fast != null) return () -> Binary.apply(fast, ta, tb, ty);
            return new DataOps.Broadcast(op, new Tensor[] {ta.expand(os), tb.expand(os)}, ty);
        });
        return y;
    }

    /**
     * A binary operator on element types other than float32 ({@link TypedKernels.Eltwise}): both inputs of one type
     * (Pow: any exponent type); the result has the first input's type, or bool for comparisons.
     */
    private static int typedBinary(Planner p, OnnxNode n, Elementwise op, int a, int b, String outName) {
        var va = p.val(a);
        var vb = p.val(b);
        if (va.dtype != vb.dtype && op != Elementwise.POW) {
            throw bad(n, "inputs '" + va.name + "' (" + va.dtype + ") and '" + vb.name + "' (" + vb.dtype + ") must have the same element type");
        }
        if (op == Elementwise.PRELU) throw bad(n, "input '" + va.name + "' is " + va.dtype + ", expected float32");
        int[] os = Shapes.broadcast(va.shape, vb.shape);
        int y = p.dynamic(outName, os, op.comparison() ? DType.U8 : va.dtype);
        p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> new TypedKernels.Eltwise(op, new Tensor[] {v[a].expand(os), v[b].expand(os)}, v[y]));
        return y;
    }

    /** Where(condition (bool), X, Y) with three-way broadcasting. */
    static void where(Planner p, OnnxNode n) {
        int c = p.in(n, 0), x = p.in(n, 1), yv = p.in(n, 2);
        requireDType(p, n, c, DType.U8, "condition");
        DType t = p.val(x).dtype;
        requireDType(p, n, yv, t, "input");
        int[] os = Shapes.broadcast(Shapes.broadcast(p.val(c).shape, p.val(x).shape), p.val(yv).shape);
        int y = p.dynamic(n.outputs().get(0), os, t);
        p.step(n.name(), new int[] {c, x, yv}, new int[] {y}, v -> {
            Tensor[] ins = {v[c].expand(os), v[x].expand(os), v[yv].expand(os)};
            return t == DType.F32 ? new DataOps.Broadcast(null, ins, v[y]) : new TypedKernels.Eltwise(null, ins, v[y]);
        });
    }
}
