package tessera.spark;

import java.util.Arrays;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Batch inference on a Dataset without Spark ML: {@code TesseraInference.score(df, ScoringConfig.of("m.onnx", "content"))}
 * returns {@code df} with the output column (and top-k columns when asked) and the error column appended.
 * Each partition is scored in batches by the executor's one shared {@link tessera.onnx.infer.InferenceSession}.
 */
public final class TesseraInference {
    private TesseraInference() {}

    /** Scores every row of {@code df}; lazy like any transformation. */
    public static Dataset<Row> score(Dataset<?> df, ScoringConfig config) {
        StructType in = df.schema();
        StructType out = outputSchema(in, config);
        int idx = in.fieldIndex(config.inputCol());
        PartitionScorer.InputKind kind = inputKind(in.fields()[idx]);
        return df.toDF().mapPartitions(new PartitionScorer(config, kind, idx), Encoders.row(out));
    }

    /** The schema {@link #score} produces: the input's columns, then output, [top-k indices, top-k scores], error. */
    public static StructType outputSchema(StructType in, ScoringConfig config) {
        if (!Arrays.asList(in.fieldNames()).contains(config.inputCol())) {
            throw new IllegalArgumentException("input column '" + config.inputCol() + "' not found; the columns are " + Arrays.toString(in.fieldNames()));
        }
        inputKind(in.fields()[in.fieldIndex(config.inputCol())]);
        StructType out = in;
        out = add(out, config.outputCol(), DataTypes.createArrayType(DataTypes.FloatType, false));
        if (config.topK() > 0) {
            out = add(out, config.topKIndicesCol(), DataTypes.createArrayType(DataTypes.IntegerType, false));
            out = add(out, config.topKScoresCol(), DataTypes.createArrayType(DataTypes.FloatType, false));
        }
        return add(out, config.errorCol(), DataTypes.StringType);
    }

    private static StructType add(StructType s, String name, DataType type) {
        if (Arrays.asList(s.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("output column '" + name + "' already exists; choose another name");
        }
        return s.add(new StructField(name, type, true, org.apache.spark.sql.types.Metadata.empty()));
    }

    static PartitionScorer.InputKind inputKind(StructField f) {
        DataType t = f.dataType();
        if (t.equals(DataTypes.BinaryType)) return PartitionScorer.InputKind.IMAGE;
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) return PartitionScorer.InputKind.FLOAT_ARRAY;
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) return PartitionScorer.InputKind.DOUBLE_ARRAY;
        if (t.equals(SQLDataTypes.VectorType())) return PartitionScorer.InputKind.VECTOR;
        throw new IllegalArgumentException("input column '" + f.name() + "' has type " + t.simpleString()
                + "; expected binary (encoded image), array<float>, array<double> or an ML vector");
    }
}
