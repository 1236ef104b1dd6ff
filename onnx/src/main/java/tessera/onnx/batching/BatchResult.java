package tessera.onnx.batching;

import java.util.List;

/**
 * The outputs of one request, sliced from its batch: for each model output, its name, its shape (leading dimension =
 * the request's rows) and its float32 data in row-major order. The arrays belong to the caller.
 */
public final class BatchResult {
    private final List<String> names;
    private final int[][] shapes;
    private final float[][] data;

    BatchResult(List<String> names, int[][] shapes, float[][] data) {
        this.names = names;
        this.shapes = shapes;
        this.data = data;
    }

    /** Number of model outputs. */
    public int outputs() { return data.length; }

    public String name(int k) { return names.get(k); }

    public int[] shape(int k) { return shapes[k].clone(); }

    /** Output {@code k}'s data (not copied). */
    public float[] data(int k) { return data[k]; }

    /** The first output's data (not copied). */
    public float[] data() { return data[0]; }
}
