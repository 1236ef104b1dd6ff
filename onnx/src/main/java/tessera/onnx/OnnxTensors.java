package tessera.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import tessera.memory.DType;
import tessera.memory.Elements;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.proto.OnnxProto.TensorProto;

/** Converts ONNX {@code TensorProto}s to off-heap tensors, checking declared sizes against the data present. */
public final class OnnxTensors {
    private OnnxTensors() {}

    // TensorProto.DataType numbers
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9, DOUBLE = 11;

    /** ONNX element type number → readable name. */
    public static String typeName(int t) {
        return switch (t) {
            case FLOAT -> "float32"; case UINT8 -> "uint8"; case INT8 -> "int8"; case 4 -> "uint16"; case 5 -> "int16";
            case INT32 -> "int32"; case INT64 -> "int64"; case 8 -> "string"; case BOOL -> "bool"; case 10 -> "float16";
            case DOUBLE -> "float64"; case 12 -> "uint32"; case 13 -> "uint64"; case 16 -> "bfloat16";
            default -> "type#" + t;
        };
    }

    static final int UINT16 = 4, INT16 = 5, STRING = 8, FLOAT16 = 10, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;

    /** The Tessera dtype holding ONNX type {@code t} (bool as U8 0/1), or null when unsupported (string, complex). */
    static DType dtypeOf(int t) {
        return switch (t) {
            case FLOAT -> DType.F32; case DOUBLE -> DType.F64; case FLOAT16 -> DType.F16; case BFLOAT16 -> DType.BF16;
            case INT64 -> DType.I64; case INT32 -> DType.I32; case INT16 -> DType.I16; case INT8 -> DType.I8;
            case UINT64 -> DType.U64; case UINT32 -> DType.U32; case UINT16 -> DType.U16; case UINT8, BOOL -> DType.U8;
            default -> null;
        };
    }

    /** Converts {@code t}; {@code what} names it in messages (e.g. "initializer 'conv1.weight'"). */
    public static Tensor toTensor(TensorProto t, String what, OnnxLimits limits, TensorArena arena) {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new OnnxFormatException(what + " stores its data in an external file, which Tessera does not support "
                    + "(save the model with all tensors inside the .onnx file)");
        }
        if (t.hasSegment()) throw new OnnxFormatException(what + " is a segmented tensor, which Tessera does not support");
        DType type = dtypeOf(t.getDataType());
        if (type == null) {
            throw new OnnxFormatException(what + " has element type " + typeName(t.getDataType())
                    + "; supported: float32, float64, float16, bfloat16, int8/16/32/64, uint8/16/32/64, bool");
        }
        int[] shape = new int[t.getDimsCount()];
        long numel = 1;
        for (int k = 0; k < shape.length; k++) {
            long d = t.getDims(k);
            if (d < 0 || d > limits.maxDim()) {
                throw new OnnxFormatException(what + " declares dimension " + k + " = " + d + " (dims " + dimsString(t)
                        + "), outside [0, " + limits.maxDim() + "]");
            }
            shape[k] = (int) d;
            numel = Math.multiplyHigh(numel, d) != 0 ? Long.MAX_VALUE : numel * d;
            if (numel > limits.maxTensorElements()) {
                throw new OnnxFormatException(what + " declares dims " + dimsString(t) + ", more than the limit of "
                        + limits.maxTensorElements() + " elements");
            }
        }
        int n = (int) numel;
        Tensor out = arena.allocate(type, shape);
        MemorySegment seg = out.segment();
        int dt = t.getDataType();
        if (t.hasRawData()) {
            long want = (long) n * type.byteSize();
            if (t.getRawData().size() != want) {
                throw new OnnxFormatException(what + " declares dims " + dimsString(t) + " of " + typeName(dt) + " = " + want
                        + " bytes, but its raw_data has " + t.getRawData().size() + " bytes");
            }
            MemorySegment raw = MemorySegment.ofBuffer(t.getRawData().asReadOnlyByteBuffer());
            MemorySegment.copy(raw, 0, seg, 0, want); // ONNX raw data is little-endian, as is Tensor memory
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) throw new OnnxFormatException("big-endian hosts are not supported");
            return out;
        }
        int have = switch (dt) {
            case FLOAT -> t.getFloatDataCount();
            case DOUBLE -> t.getDoubleDataCount();
            case INT64 -> t.getInt64DataCount();
            case UINT32, UINT64 -> t.getUint64DataCount();
            default -> t.getInt32DataCount(); // the 32-bit and narrower types; float16/bfloat16 as their bit patterns
        };
        if (have != n) {
            throw new OnnxFormatException(what + " declares dims " + dimsString(t) + " (" + n + " elements of " + typeName(dt)
                    + ") but holds " + have + " values");
        }
        for (int k = 0; k < n; k++) {
            switch (dt) {
                case FLOAT -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k, t.getFloatData(k));
                case DOUBLE -> seg.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, k, t.getDoubleData(k));
                case INT64 -> seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, k, t.getInt64Data(k));
                case UINT32, UINT64 -> Elements.writeLong(seg, type, k, t.getUint64Data(k));
                case FLOAT16, BFLOAT16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, k, (short) t.getInt32Data(k));
                default -> Elements.writeLong(seg, type, k, t.getInt32Data(k));
            }
        }
        return out;
    }

    private static String dimsString(TensorProto t) {
        return Arrays.toString(t.getDimsList().stream().mapToLong(Long::longValue).toArray());
    }
}
