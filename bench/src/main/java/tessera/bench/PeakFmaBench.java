package tessera.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's float32 FMA peak through the Vector API ({@link FloatVector#SPECIES_PREFERRED}): 12 independent
 * accumulator chains of {@code FloatVector.fma}, all operands in registers. The denominator of every "% of peak".
 *
 * <p>Score: operations per second, one operation = {@value #STEPS} steps × 12 FMAs × VLEN lanes × 2 FLOPs, so
 * GFLOP/s = score × {@link #flops} / 1e9 (JMH sums the score over threads for {@link #allThreads}).
 * {@code ./tessera bench kernels} does this conversion.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class PeakFmaBench {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** k steps per benchmark operation. */
    public static final int STEPS = 4096;

    float seed;

    @Setup
    public void setup() { seed = 1.0001f; }

    /** FLOPs per benchmark operation (the {@code flops} convention of {@code tessera bench kernels}). */
    public static double flops(String method, Map<String, String> params) {
        return 2.0 * 12 * S.length() * STEPS;
    }

    @Benchmark
    @Threads(1)
    public float oneThread() { return fmaChains(seed); }

    @Benchmark
    @Threads(Threads.MAX)
    public float allThreads() { return fmaChains(seed); }

    private static float fmaChains(float s) {
        FloatVector m = FloatVector.broadcast(S, s), x = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 0.1f), a1 = FloatVector.broadcast(S, 0.2f), a2 = FloatVector.broadcast(S, 0.3f);
        FloatVector a3 = FloatVector.broadcast(S, 0.4f), a4 = FloatVector.broadcast(S, 0.5f), a5 = FloatVector.broadcast(S, 0.6f);
        FloatVector a6 = FloatVector.broadcast(S, 0.7f), a7 = FloatVector.broadcast(S, 0.8f), a8 = FloatVector.broadcast(S, 0.9f);
        FloatVector a9 = FloatVector.broadcast(S, 1.0f), a10 = FloatVector.broadcast(S, 1.1f), a11 = FloatVector.broadcast(S, 1.2f);
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(m, x);
            a1 = a1.fma(m, x);
            a2 = a2.fma(m, x);
            a3 = a3.fma(m, x);
            a4 = a4.fma(m, x);
            a5 = a5.fma(m, x);
            a6 = a6.fma(m, x);
            a7 = a7.fma(m, x);
            a8 = a8.fma(m, x);
            a9 = a9.fma(m, x);
            a10 = a10.fma(m, x);
            a11 = a11.fma(m, x);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).reduceLanes(
                jdk.incubator.vector.VectorOperators.ADD);
    }
}
