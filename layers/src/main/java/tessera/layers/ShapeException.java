package tessera.layers;

import java.util.Arrays;

/** A layer received an input shape it cannot take; thrown by {@link Layer#outputShape}. */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(String layerType, int[] input, String expected) {
        super(layerType + " cannot take input of shape " + Arrays.toString(input) + ": expected " + expected);
    }
}
