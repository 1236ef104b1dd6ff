package tessera.bench;

import java.lang.reflect.Field;
import java.util.Arrays;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A development probe, not a benchmark to quote: A/B of a kernel's tuning knob (a static volatile field) <em>inside
 * training steps</em>, where kernels read activations the forward pass left in memory, not in cache. It sets each
 * configuration in turn before a forward and a forward + backward of {@link TrainingStepBench}'s network, step after
 * step in one JVM, so every configuration sees the same load — on a shared host, runs in separate JVMs minutes apart
 * differ by more than the effects sought. Prints per configuration the median forward and forward + backward.
 * {@code java -cp benchmarks.jar tessera.bench.TrainStepKnobProbe THREADS STEPS package.Class.field=A,B[,C…] …}
 * (every knob lists as many values as the first; e.g.
 * {@code tessera.kernels.conv.F32WinogradWeightGrad.maxPartials=4,1}).
 */
public final class TrainStepKnobProbe {
    private TrainStepKnobProbe() {}

    public static void main(String[] args) throws ReflectiveOperationException {
        if (args.length < 3) throw new IllegalArgumentException("usage: THREADS STEPS package.Class.field=A,B … (see the javadoc)");
        int threads = Integer.parseInt(args[0]), steps = Integer.parseInt(args[1]);
        ComputePool.setThreads(threads);
        Field[] knobs = new Field[args.length - 2];
        String[][] values = new String[knobs.length][];
        for (int i = 0; i < knobs.length; i++) {
            String spec = args[i + 2];
            int eq = spec.indexOf('='), dot = spec.lastIndexOf('.', eq);
            if (eq < 0 || dot < 0) throw new IllegalArgumentException("knob '" + spec + "': expected package.Class.field=A,B");
            knobs[i] = Class.forName(spec.substring(0, dot)).getDeclaredField(spec.substring(dot + 1, eq));
            knobs[i].setAccessible(true);
            values[i] = spec.substring(eq + 1).split(",");
            if (values[i].length != values[0].length)
                throw new IllegalArgumentException("knob '" + spec + "' lists " + values[i].length + " values, the first " + values[0].length);
        }
        int configs = values[0].length;
        try (Model model = Model.build(TrainingRuns.spec(TrainingRuns.SMALL_RESNET), DType.F32, 1).train();
             Tensor x = TrainingRuns.images(16, TrainingRuns.imageSize(TrainingRuns.SMALL_RESNET));
             Tensor labels = TrainingRuns.labels(16, TrainingRuns.classes(TrainingRuns.SMALL_RESNET), 1)) {
            double[][] forward = new double[configs][steps], step = new double[configs][steps];
            for (int i = -300; i < steps; i++) // 300 rounds of warm-up, untimed
                for (int c = 0; c < configs; c++) {
                    for (int k = 0; k < knobs.length; k++) set(knobs[k], values[k][c]);
                    long t0 = System.nanoTime();
                    TrainingRuns.forward(model, x);
                    long t1 = System.nanoTime();
                    TrainingRuns.step(model, null, x, labels);
                    long t2 = System.nanoTime();
                    if (i < 0) continue;
                    forward[c][i] = (t1 - t0) / 1e6;
                    step[c][i] = (t2 - t1) / 1e6;
                }
            for (int c = 0; c < configs; c++) {
                Arrays.sort(forward[c]);
                Arrays.sort(step[c]);
                StringBuilder knob = new StringBuilder();
                for (int k = 0; k < knobs.length; k++) knob.append(knobs[k].getName()).append('=').append(values[k][c]).append(' ');
                System.out.printf("%d thread(s), %s: median forward %.2f ms, forward + backward %.2f ms, ratio %.3f%n", threads,
                        knob, forward[c][steps / 2], step[c][steps / 2], step[c][steps / 2] / forward[c][steps / 2]);
            }
        }
    }

    private static void set(Field f, String v) throws IllegalAccessException {
        Class<?> t = f.getType();
        if (t == int.class) f.setInt(null, Integer.parseInt(v));
        else if (t == long.class) f.setLong(null, Long.parseLong(v));
        else if (t == boolean.class) f.setBoolean(null, Boolean.parseBoolean(v));
        else if (t == double.class) f.setDouble(null, Double.parseDouble(v));
        else throw new IllegalArgumentException("knob " + f + ": type " + t + " is not int, long, boolean or double");
    }
}
