package tessera.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * What to score and how; shipped to the executors with each task (plain Java serialization).
 *
 * @param modelPath      the ONNX file; on an executor, a path that does not exist there is looked up as a file
 *                       shipped with {@code --files} / {@code SparkContext.addFile} ({@code SparkFiles.get(name)})
 * @param inputCol       binary (encoded image, e.g. {@code content} of the {@code binaryFile} source),
 *                       {@code array<float>}, {@code array<double>} or an ML {@code Vector}: one sample, flattened C×H×W
 * @param outputCol      the model's first output per row, flattened, as {@code array<float>}
 * @param errorCol       null for scored rows; the reason for rows that could not be scored
 * @param topK           0: no top-k columns; k > 0: {@code topKIndicesCol} ({@code array<int>}) and
 *                       {@code topKScoresCol} ({@code array<float>}), the k largest output values, largest first
 *                       (ties: lower index first)
 * @param batchSize      rows per {@code InferenceSession.run} within a partition (the last batch may be smaller)
 * @param threadsPerTask intra-op threads ({@code ComputePool}); 0 means {@code spark.task.cpus}; must not exceed
 *                       {@code spark.task.cpus} (see README, "Batch inference on Spark")
 * @param failFast       true: the first bad row fails the task (and so the job) with its reason
 * @param sampleShape    per-sample input shape (C, H, W) when the model's declared shape is symbolic; null: the
 *                       model's declared shape without the batch dimension
 * @param images         preprocessing of binary (image) inputs
 */
public record ScoringConfig(String modelPath, String inputCol, String outputCol, String errorCol, int topK,
        String topKIndicesCol, String topKScoresCol, int batchSize, int threadsPerTask, boolean failFast,
        int[] sampleShape, ImagePreprocessing images) implements Serializable {

    public ScoringConfig {
        if (modelPath == null || modelPath.isBlank()) throw new IllegalArgumentException("modelPath is required");
        if (inputCol == null || inputCol.isBlank()) throw new IllegalArgumentException("inputCol is required");
        if (outputCol == null || outputCol.isBlank()) throw new IllegalArgumentException("outputCol is required");
        if (errorCol == null || errorCol.isBlank()) throw new IllegalArgumentException("errorCol is required");
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (threadsPerTask < 0) throw new IllegalArgumentException("threadsPerTask must be >= 0 (0 = spark.task.cpus), got " + threadsPerTask);
        if (sampleShape != null) {
            for (int d : sampleShape) if (d < 1) throw new IllegalArgumentException("sampleShape dimensions must be >= 1, got " + Arrays.toString(sampleShape));
            sampleShape = sampleShape.clone();
        }
        if (images == null) images = ImagePreprocessing.DEFAULT;
        if (topKIndicesCol == null) topKIndicesCol = outputCol + "_topk_indices";
        if (topKScoresCol == null) topKScoresCol = outputCol + "_topk_scores";
    }

    /** Defaults: output column {@code prediction}, error column {@code error}, no top-k, batch 32, threads = task cpus, errors kept. */
    public static ScoringConfig of(String modelPath, String inputCol) {
        return new ScoringConfig(modelPath, inputCol, "prediction", "error", 0, null, null, 32, 0, false, null, ImagePreprocessing.DEFAULT);
    }

    public ScoringConfig withOutputCol(String c) { return new ScoringConfig(modelPath, inputCol, c, errorCol, topK, null, null, batchSize, threadsPerTask, failFast, sampleShape, images); }

    public ScoringConfig withErrorCol(String c) { return new ScoringConfig(modelPath, inputCol, outputCol, c, topK, topKIndicesCol, topKScoresCol, batchSize, threadsPerTask, failFast, sampleShape, images); }

    public ScoringConfig withTopK(int k) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, k, topKIndicesCol, topKScoresCol, batchSize, threadsPerTask, failFast, sampleShape, images); }

    public ScoringConfig withTopKCols(String indices, String scores) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, indices, scores, batchSize, threadsPerTask, failFast, sampleShape, images); }

    public ScoringConfig withBatchSize(int b) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, topKIndicesCol, topKScoresCol, b, threadsPerTask, failFast, sampleShape, images); }

    public ScoringConfig withThreadsPerTask(int t) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, topKIndicesCol, topKScoresCol, batchSize, t, failFast, sampleShape, images); }

    public ScoringConfig withFailFast(boolean f) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, topKIndicesCol, topKScoresCol, batchSize, threadsPerTask, f, sampleShape, images); }

    public ScoringConfig withSampleShape(int... s) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, topKIndicesCol, topKScoresCol, batchSize, threadsPerTask, failFast, s, images); }

    public ScoringConfig withImages(ImagePreprocessing p) { return new ScoringConfig(modelPath, inputCol, outputCol, errorCol, topK, topKIndicesCol, topKScoresCol, batchSize, threadsPerTask, failFast, sampleShape, p); }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScoringConfig c && c.modelPath.equals(modelPath) && c.inputCol.equals(inputCol) && c.outputCol.equals(outputCol)
                && c.errorCol.equals(errorCol) && c.topK == topK && c.topKIndicesCol.equals(topKIndicesCol) && c.topKScoresCol.equals(topKScoresCol)
                && c.batchSize == batchSize && c.threadsPerTask == threadsPerTask && c.failFast == failFast
                && Arrays.equals(c.sampleShape, sampleShape) && c.images.equals(images);
    }

    @Override
    public int hashCode() { return modelPath.hashCode() * 31 + inputCol.hashCode(); }

    @Override
    public String toString() {
        return "ScoringConfig[model=" + modelPath + ", input=" + inputCol + ", output=" + outputCol + ", error=" + errorCol + ", topK=" + topK
                + ", batch=" + batchSize + ", threadsPerTask=" + threadsPerTask + ", failFast=" + failFast
                + ", sampleShape=" + Arrays.toString(sampleShape) + ", images=" + images + "]";
    }
}
