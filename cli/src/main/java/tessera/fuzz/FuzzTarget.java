package tessera.fuzz;

import java.util.List;
import java.util.Random;

/**
 * One kind of input the library reads: valid seed inputs, structure-aware mutations of them, the call that
 * exercises the reader, and the exception types that count as the library's own clear rejection.
 */
public interface FuzzTarget {
    /** Short name used on the command line ({@code onnx}, {@code npy}, …). */
    String name();

    /** File name extension of a reproducer ({@code .onnx}, {@code .npy}, …). */
    String extension();

    /** Valid inputs that mutations start from; the reader must accept each of them. */
    List<byte[]> seeds();

    /** A structure-aware mutation of {@code input} (fields deleted, duplicated, retyped; sizes out of range; …). */
    byte[] mutateStructure(byte[] input, Random rnd);

    /** Reads {@code input} the way a user of the library would; returns normally iff the input is accepted. */
    void exercise(byte[] input) throws Exception;

    /** The library's declared exception types for malformed input of this kind (a subclass counts too). */
    List<Class<? extends Throwable>> clearExceptions();
}
