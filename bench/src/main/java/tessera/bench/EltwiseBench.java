package tessera.bench;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
import tessera.kernels.Activation;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.Activations;
import tessera.kernels.norm.BatchNorm;
import tessera.kernels.reduce.Softmax;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Memory-bound elementwise kernels on a tensor far larger than L2: x, y [16, 64, 112, 112] float32 (51 MB each).
 *
 * <ul>
 *   <li>{@code reluForward}: y = max(x, 0); {@code reluInPlace}: x = max(x, 0);</li>
 *   <li>{@code copyBaseline}: {@code MemorySegment.copy} x → y, the same-run denominator of "% of copy";</li>
 *   <li>{@code batchNormInference}: y = x·a[c] + b[c] (running statistics);</li>
 *   <li>{@code softmax}: logits [12544, 1024] along the last axis (same element count).</li>
 * </ul>
 * Param {@code threads}: the compute pool's thread count. Score: operations per second;
 * GB/s = score × {@link #bytes} / 1e9 (bytes read + written once per element: 8·numel).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class EltwiseBench {
    static final int[] SHAPE = {16, 64, 112, 112};
    static final long NUMEL = 16L * 64 * 112 * 112;

    /** Bytes moved per operation (each element read once and written once). */
    public static double bytes(String method, Map<String, String> params) {
        return 8.0 * NUMEL;
    }

    @Param({"1", "2"})
    public int threads;

    TensorArena arena;
    Tensor x, y, logits, probs, gamma, beta, mean, var;
    int savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        savedThreads = ComputePool.threads();
        ComputePool.setThreads(threads);
        arena = new TensorArena();
        x = RandomFill.normal(arena.allocate(DType.F32, SHAPE), 1, 0, 1);
        y = arena.allocate(DType.F32, SHAPE);
        logits = x.reshape(12544, 1024);
        probs = y.reshape(12544, 1024);
        gamma = RandomFill.uniform(arena.allocate(DType.F32, 64), 2, 0.5, 1.5);
        beta = RandomFill.uniform(arena.allocate(DType.F32, 64), 3, -1, 1);
        mean = RandomFill.uniform(arena.allocate(DType.F32, 64), 4, -1, 1);
        var = RandomFill.uniform(arena.allocate(DType.F32, 64), 5, 0.5, 2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        ComputePool.setThreads(savedThreads);
    }

    @Benchmark
    public void reluForward() { Activations.forward(Activation.RELU, 0f, x, y); }

    @Benchmark
    public void reluInPlace() { Activations.forward(Activation.RELU, 0f, y, y); }

    @Benchmark
    public void copyBaseline() {
        MemorySegment s = x.segment(), d = y.segment();
        MemorySegment.copy(s, 0, d, 0, 4 * NUMEL);
    }

    @Benchmark
    public void batchNormInference() { BatchNorm.forwardInference(x, gamma, beta, mean, var, 1e-5, y); }

    @Benchmark
    public void softmax() { Softmax.forward(logits, 1, probs); }
}
