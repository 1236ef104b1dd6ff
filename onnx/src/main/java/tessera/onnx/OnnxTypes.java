package tessera.onnx;

import tessera.memory.DType;

/** ONNX element type numbers ↔ Tessera dtypes. */
public final class OnnxTypes {
    private OnnxTypes() {}

    /** The dtype holding ONNX element type {@code t}, or an {@link OnnxFormatException} naming it. */
    public static DType dtypeOf(int t) {
        DType d = OnnxTensors.dtypeOf(t);
        if (d == null) throw new OnnxFormatException("ONNX element type " + OnnxTensors.typeName(t) + " is not supported");
        return d;
    }
}
