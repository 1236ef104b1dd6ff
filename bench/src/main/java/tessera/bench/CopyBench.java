package tessera.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
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
import tessera.memory.DType;
import tessera.memory.Layout;
import tessera.kernels.layout.Layouts;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * Memory bandwidth of tensor copies and layout conversions, the figure later kernels are compared to.
 *
 * <p>{@link #bytes} (the report's GB/s convention) counts bytes read plus bytes written (2 × tensor bytes per copy;
 * source + blocked tensor, padding included, per blocked conversion). Shapes: an N×C×H×W
 * float32 activation, {@code 16x64x56x56} (12.8 MB per tensor, beyond L2, within L3), {@code 64x64x56x56}
 * (51 MB, DRAM) and {@code 1x64x28x28} (200 KB, source + destination fit in L2). Run with {@code -t 2} for the
 * two-thread aggregate (each thread owns its tensors).
 *
 * <p>Measured (AVX2 machine, 8 float lanes, JDK 25; medians of a noisy shared box), GB/s, 1 thread / 2 threads:
 * segment copy 84/158 (in L2), 26/32 (12.8 MB), 16/21 (51 MB); vector copy 64/117, 17/33, 14/23;
 * NCHW→blocked 11/21, 13/19, 9.5/18; blocked→NCHW 10/22, 9/17, 9/18; NCHW→NHWC 11/24, 6.5/13, 8/15.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class CopyBench {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Param({"1x64x28x28", "16x64x56x56", "64x64x56x56"})
    public String shape;

    private TensorArena arena;
    private Tensor src, dst, blocked, nhwc;
    private long copyBytes;

    /** Bytes moved by one call of {@code method} on the {@code shape} param (read + written). */
    public static double bytes(String method, java.util.Map<String, String> params) {
        int[] d = ShapeParam.dims(params.get("shape"));
        int b = Layouts.preferredBlock();
        double plain = 4.0 * d[0] * d[1] * d[2] * d[3];
        double blocked = 4.0 * d[0] * ((d[1] + b - 1) / b * b) * d[2] * d[3];
        return method.equals("nchwToBlocked") || method.equals("blockedToNchw") ? plain + blocked : 2 * plain;
    }

    @Setup
    public void setup() {
        int[] d = ShapeParam.dims(shape);
        int n = d[0], c = d[1], h = d[2], w = d[3];
        arena = new TensorArena();
        src = RandomFill.uniform(arena.allocate(DType.F32, n, c, h, w), 1, -1, 1);
        dst = arena.allocate(DType.F32, n, c, h, w);
        blocked = arena.allocate(DType.F32, Layout.NCHW_BLOCKED, Layouts.blockedShape(n, c, h, w, Layouts.preferredBlock()));
        nhwc = arena.allocate(DType.F32, Layout.NHWC, n, h, w, c);
        copyBytes = src.numel() * 4;
    }

    @TearDown
    public void tearDown() { arena.close(); }

    @Benchmark
    public void segmentCopy() {
        MemorySegment.copy(src.segment(), 0, dst.segment(), 0, copyBytes);
    }

    @Benchmark
    public void vectorCopy() {
        vectorCopy(src.segment(), dst.segment(), copyBytes);
    }

    /** f32 copy with 4 independent vectors per step and a masked tail. */
    static void vectorCopy(MemorySegment s, MemorySegment d, long bytes) {
        ByteOrder o = ByteOrder.nativeOrder();
        long step = SPECIES.vectorByteSize();
        long i = 0;
        for (; i + 4 * step <= bytes; i += 4 * step) {
            FloatVector a = FloatVector.fromMemorySegment(SPECIES, s, i, o);
            FloatVector b = FloatVector.fromMemorySegment(SPECIES, s, i + step, o);
            FloatVector c = FloatVector.fromMemorySegment(SPECIES, s, i + 2 * step, o);
            FloatVector e = FloatVector.fromMemorySegment(SPECIES, s, i + 3 * step, o);
            a.intoMemorySegment(d, i, o);
            b.intoMemorySegment(d, i + step, o);
            c.intoMemorySegment(d, i + 2 * step, o);
            e.intoMemorySegment(d, i + 3 * step, o);
        }
        for (; i < bytes; i += step) {
            VectorMask<Float> m = SPECIES.indexInRange(i / 4, bytes / 4);
            FloatVector.fromMemorySegment(SPECIES, s, i, o, m).intoMemorySegment(d, i, o, m);
        }
    }

    @Benchmark
    public void nchwToBlocked() {
        Layouts.nchwToBlocked(src, blocked);
    }

    @Benchmark
    public void blockedToNchw() {
        Layouts.blockedToNchw(blocked, dst);
    }

    @Benchmark
    public void nchwToNhwc() {
        Layouts.nchwToNhwc(src, nhwc);
    }
}
