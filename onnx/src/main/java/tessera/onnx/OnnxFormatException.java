package tessera.onnx;

/**
 * An ONNX model file that cannot be used: malformed bytes, inconsistent tensors, unsupported operators, or bad
 * attributes. The message names the file part (node, tensor, attribute) and what was expected.
 */
public class OnnxFormatException extends IllegalArgumentException {
    public OnnxFormatException(String message) { super(tessera.memory.Messages.oneLine(message)); }

    public OnnxFormatException(String message, Throwable cause) { super(tessera.memory.Messages.oneLine(message), cause); }
}
