package tessera.onnx;

import java.util.Arrays;
import tessera.memory.Tensor;

/**
 * One node attribute. Exactly the field matching {@link #type()} is meaningful.
 *
 * @param name   attribute name
 * @param type   which value is set
 * @param i      INT value
 * @param f      FLOAT value
 * @param s      STRING value (UTF-8 decoded)
 * @param ints   INTS value (empty otherwise)
 * @param floats FLOATS value (empty otherwise)
 * @param t      TENSOR value, or null
 */
public record OnnxAttribute(String name, Type type, long i, float f, String s, long[] ints, float[] floats, Tensor t) {
    /** The attribute kinds Tessera reads (others are rejected when an operator asks for them). */
    public enum Type { INT, FLOAT, STRING, INTS, FLOATS, TENSOR, OTHER }

    public static OnnxAttribute ofInt(String name, long v) { return new OnnxAttribute(name, Type.INT, v, 0, null, new long[0], new float[0], null); }
    public static OnnxAttribute ofFloat(String name, float v) { return new OnnxAttribute(name, Type.FLOAT, 0, v, null, new long[0], new float[0], null); }
    public static OnnxAttribute ofString(String name, String v) { return new OnnxAttribute(name, Type.STRING, 0, 0, v, new long[0], new float[0], null); }
    public static OnnxAttribute ofInts(String name, long... v) { return new OnnxAttribute(name, Type.INTS, 0, 0, null, v.clone(), new float[0], null); }

    @Override
    public String toString() {
        return switch (type) {
            case INT -> name + "=" + i;
            case FLOAT -> name + "=" + f;
            case STRING -> name + "='" + s + "'";
            case INTS -> name + "=" + Arrays.toString(ints);
            case FLOATS -> name + "=" + Arrays.toString(floats);
            case TENSOR -> name + "=tensor" + (t == null ? "" : Arrays.toString(t.shape()));
            case OTHER -> name + "=<unsupported type>";
        };
    }
}
