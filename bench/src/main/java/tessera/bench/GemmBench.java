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
import tessera.kernels.ComputePool;
import tessera.kernels.gemm.Gemm;
import tessera.memory.DType;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * float32 GEMM throughput ({@link Gemm#sgemm}, C = A·B with beta = 0).
 *
 * <ul>
 *   <li>{@code nn}, {@code nt}, {@code tn}: square size³ products, op(A)/op(B) transposed as named (t = transposed);
 *       params {@code size} and {@code threads} (the compute pool's thread count).</li>
 *   <li>{@code shape}: products convolution produces, param {@code shape} = "M×N×K" written {@code MxNxK}
 *       (im2col of ResNet/VGG layers: 64x3136x576 is a 3×3 conv, 64→64 channels, 56×56 output) and {@code threads}.</li>
 * </ul>
 * The kernel and blocking in use ({@link Gemm#kernelInfo()}) are printed at each trial's setup; choose another with
 * {@code -jvmArgsPrepend -Dtessera.gemm.tile=4x2v} (also {@code tessera.gemm.kc/mc/nc}).
 * Score: operations (GEMM calls) per second; GFLOP/s = score × {@link #flops} / 1e9, done by
 * {@code ./tessera bench kernels}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class GemmBench {

    /** FLOPs of one benchmark operation: 2·M·N·K. */
    public static double flops(String method, Map<String, String> params) {
        if (params.containsKey("shape")) {
            String[] p = params.get("shape").split("x");
            return 2.0 * Double.parseDouble(p[0]) * Double.parseDouble(p[1]) * Double.parseDouble(p[2]);
        }
        double s = Double.parseDouble(params.get("size"));
        return 2.0 * s * s * s;
    }

    /** Operands of one problem, in a shared arena, with the pool's thread count set for the trial. */
    abstract static class Problem {
        TensorArena arena;
        MemorySegment a, b, c;
        int m, n, k, savedThreads;

        void allocate(int m, int n, int k, int threads) {
            this.m = m;
            this.n = n;
            this.k = k;
            arena = new TensorArena();
            Tensor ta = arena.allocate(DType.F32, m, k), tb = arena.allocate(DType.F32, k, n), tc = arena.allocate(DType.F32, m, n);
            RandomFill.uniform(ta, 1, -1, 1);
            RandomFill.uniform(tb, 2, -1, 1);
            a = ta.segment();
            b = tb.segment();
            c = tc.segment();
            savedThreads = ComputePool.threads();
            ComputePool.setThreads(threads);
            System.out.println("gemm kernel: " + Gemm.kernelInfo());
        }

        @TearDown(Level.Trial)
        public void free() {
            ComputePool.setThreads(savedThreads);
            arena.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Square extends Problem {
        @Param({"256", "512", "1024", "2048"})
        public int size;
        @Param({"1", "2"})
        public int threads;

        @Setup(Level.Trial)
        public void setup() { allocate(size, size, size, threads); }
    }

    @State(Scope.Benchmark)
    public static class ConvShape extends Problem {
        /** M×N×K of im2col GEMMs: ResNet-18/34 3×3 convs at 56², 28², 14², 7² (batch 1) and a 1×1 conv. */
        @Param({"64x3136x576", "128x784x1152", "256x196x2304", "512x49x4608", "256x3136x64"})
        public String shape;
        @Param({"1", "2"})
        public int threads;

        @Setup(Level.Trial)
        public void setup() {
            int[] d = ShapeParam.dims(shape);
            allocate(d[0], d[1], d[2], threads);
        }
    }

    @Benchmark
    public MemorySegment nn(Square s) {
        Gemm.sgemm(false, false, s.m, s.n, s.k, 1f, s.a, 0, s.k, s.b, 0, s.n, 0f, s.c, 0, s.n);
        return s.c;
    }

    @Benchmark
    public MemorySegment nt(Square s) {
        Gemm.sgemm(false, true, s.m, s.n, s.k, 1f, s.a, 0, s.k, s.b, 0, s.k, 0f, s.c, 0, s.n);
        return s.c;
    }

    @Benchmark
    public MemorySegment tn(Square s) {
        Gemm.sgemm(true, false, s.m, s.n, s.k, 1f, s.a, 0, s.m, s.b, 0, s.n, 0f, s.c, 0, s.n);
        return s.c;
    }

    @Benchmark
    public MemorySegment shape(ConvShape s) {
        Gemm.sgemm(false, false, s.m, s.n, s.k, 1f, s.a, 0, s.k, s.b, 0, s.n, 0f, s.c, 0, s.n);
        return s.c;
    }
}
