package tessera.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tessera.kernels.ComputePool;
import tessera.kernels.pool.Pool2d;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Float32 NCHW pooling throughput. {@link #bytes} (the report's GB/s convention) counts the input read plus the output
 * (and int64 indices, when returned) written, once per call.
 * {@code 1x64x112x112} (3.2 MB in) is a ResNet stem after conv1; {@code 16x64x112x112} (51 MB in) is larger than
 * L2 and L3 and comparable with {@code CopyBench}'s {@code 64x64x56x56}. {@code threads} sets the compute pool.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class PoolBench {
    @Param({"1x64x112x112", "16x64x112x112"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private static final PoolSpec MAX_3X3_S2_P1 = PoolSpec.of(PoolType.MAX, 3, 2, 1);
    private static final PoolSpec AVG_2X2_S2 = PoolSpec.of(PoolType.AVG, 2, 2, 0);

    private TensorArena arena;
    private Tensor x, yMax, idxMax, yAvg, yGlobal;
    private int savedThreads;

    /** Bytes moved by one call of {@code method} on the {@code shape} param (read + written). */
    public static double bytes(String method, java.util.Map<String, String> params) {
        int[] d = ShapeParam.dims(params.get("shape"));
        long nc = (long) d[0] * d[1], in = nc * d[2] * d[3];
        long maxOut = nc * MAX_3X3_S2_P1.outH(d[2]) * MAX_3X3_S2_P1.outW(d[3]);
        return switch (method) {
            case "maxPool3x3s2" -> 4.0 * (in + maxOut);
            case "maxPool3x3s2Indices" -> 4.0 * (in + maxOut) + 8.0 * maxOut;
            case "avgPool2x2s2" -> 4.0 * (in + nc * AVG_2X2_S2.outH(d[2]) * AVG_2X2_S2.outW(d[3]));
            case "globalAvg" -> 4.0 * (in + nc);
            default -> throw new IllegalArgumentException("unknown PoolBench method " + method);
        };
    }

    @Setup
    public void setup() {
        int[] d = ShapeParam.dims(shape);
        int n = d[0], c = d[1], h = d[2], w = d[3];
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        arena = new TensorArena();
        x = RandomFill.uniform(arena.allocate(DType.F32, n, c, h, w), 1, -1, 1);
        yMax = arena.allocate(DType.F32, n, c, MAX_3X3_S2_P1.outH(h), MAX_3X3_S2_P1.outW(w));
        idxMax = arena.allocate(DType.I64, n, c, MAX_3X3_S2_P1.outH(h), MAX_3X3_S2_P1.outW(w));
        yAvg = arena.allocate(DType.F32, n, c, AVG_2X2_S2.outH(h), AVG_2X2_S2.outW(w));
        yGlobal = arena.allocate(DType.F32, n, c, 1, 1);
    }

    @TearDown
    public void tearDown() {
        arena.close();
        ComputePool.setThreads(savedThreads);
    }

    /** Max-pool 3×3, stride 2, padding 1, values only (inference). */
    @Benchmark
    public void maxPool3x3s2() {
        Pool2d.forward(MAX_3X3_S2_P1, x, yMax, null);
    }

    /** Max-pool 3×3, stride 2, padding 1, with int64 argmax indices (training). */
    @Benchmark
    public void maxPool3x3s2Indices() {
        Pool2d.forward(MAX_3X3_S2_P1, x, yMax, idxMax);
    }

    /** Average-pool 2×2, stride 2. */
    @Benchmark
    public void avgPool2x2s2() {
        Pool2d.forward(AVG_2X2_S2, x, yAvg, null);
    }

    /** Global average pool to [N,C,1,1]. */
    @Benchmark
    public void globalAvg() {
        Pool2d.globalAvg(x, yGlobal);
    }
}
