package tessera.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * Float32 NCHW pooling throughput. The secondary result {@code gigabytes} is the traffic rate in GB/s: bytes of the
 * input read plus bytes of the output (and int64 indices, when returned) written, once per call.
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
    private double maxBytes, maxIdxBytes, avgBytes, globalBytes;
    private int savedThreads;

    /** Traffic counter: JMH reports it as a rate, i.e. GB/s of bytes read + written. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        public double gigabytes;

        @Setup(Level.Iteration)
        public void reset() { gigabytes = 0; }
    }

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        int n = Integer.parseInt(p[0]), c = Integer.parseInt(p[1]), h = Integer.parseInt(p[2]), w = Integer.parseInt(p[3]);
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        arena = new TensorArena();
        x = RandomFill.uniform(arena.allocate(DType.F32, n, c, h, w), 1, -1, 1);
        yMax = arena.allocate(DType.F32, n, c, MAX_3X3_S2_P1.outH(h), MAX_3X3_S2_P1.outW(w));
        idxMax = arena.allocate(DType.I64, n, c, MAX_3X3_S2_P1.outH(h), MAX_3X3_S2_P1.outW(w));
        yAvg = arena.allocate(DType.F32, n, c, AVG_2X2_S2.outH(h), AVG_2X2_S2.outW(w));
        yGlobal = arena.allocate(DType.F32, n, c, 1, 1);
        maxBytes = (x.numel() + yMax.numel()) * 4e-9;
        maxIdxBytes = maxBytes + idxMax.numel() * 8e-9;
        avgBytes = (x.numel() + yAvg.numel()) * 4e-9;
        globalBytes = (x.numel() + yGlobal.numel()) * 4e-9;
    }

    @TearDown
    public void tearDown() {
        arena.close();
        ComputePool.setThreads(savedThreads);
    }

    /** Max-pool 3×3, stride 2, padding 1, values only (inference). */
    @Benchmark
    public void maxPool3x3s2(Traffic t) {
        Pool2d.forward(MAX_3X3_S2_P1, x, yMax, null);
        t.gigabytes += maxBytes;
    }

    /** Max-pool 3×3, stride 2, padding 1, with int64 argmax indices (training). */
    @Benchmark
    public void maxPool3x3s2Indices(Traffic t) {
        Pool2d.forward(MAX_3X3_S2_P1, x, yMax, idxMax);
        t.gigabytes += maxIdxBytes;
    }

    /** Average-pool 2×2, stride 2. */
    @Benchmark
    public void avgPool2x2s2(Traffic t) {
        Pool2d.forward(AVG_2X2_S2, x, yAvg, null);
        t.gigabytes += avgBytes;
    }

    /** Global average pool to [N,C,1,1]. */
    @Benchmark
    public void globalAvg(Traffic t) {
        Pool2d.globalAvg(x, yGlobal);
        t.gigabytes += globalBytes;
    }
}
