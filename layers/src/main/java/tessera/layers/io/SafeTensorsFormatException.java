package tessera.layers.io;

import tessera.memory.io.TensorFormatException;

/**
 * A safetensors file is malformed: too short, a header length larger than the file, a header that is not valid
 * UTF-8 JSON of the expected form, an unknown dtype, or data offsets that overlap, leave gaps, run past the data
 * section or disagree with shape × dtype. The message names the tensor and the numbers involved.
 * (A {@link TensorFormatException}, hence an {@link IllegalArgumentException}.)
 */
public class SafeTensorsFormatException extends TensorFormatException {
    public SafeTensorsFormatException(String message) { super(message); }

    public SafeTensorsFormatException(String message, Throwable cause) { super(message, cause); }
}
