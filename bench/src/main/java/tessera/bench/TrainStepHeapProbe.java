package tessera.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import tessera.kernels.ComputePool;
import tessera.layers.Model;
import tessera.layers.optim.Sgd;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * A development probe for the goal of no heap allocation per training step: <em>what</em> a steady-state training
 * step (forward with graph, loss, backward, SGD) allocates on the Java heap, by class — objects and bytes per step,
 * from two class histograms taken around the measured steps in a JVM that never collects garbage, so that every
 * object allocated in between (by any thread) is still on the heap. Run with Epsilon:
 * <pre>
 * java -XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xmx8g --add-modules jdk.incubator.vector \
 *      -cp benchmarks.jar tessera.bench.TrainStepHeapProbe [small-resnet|resnet18] [BATCH] [WARMUP] [STEPS] [THREADS]
 * </pre>
 * With {@code -Dtessera.heapProbe.captured=true} the steps are replays of a {@link tessera.autograd.CapturedStep}.
 * With {@code -XX:-UseTLAB -Dtessera.heapProbe.sites=FILE.jfr} it also records every allocation of the measured steps
 * with JFR and prints the allocating sites (first tessera frames) by bytes per step (then the histogram counts JFR's
 * own objects too).
 * Objects of the Vector API ({@code Float512Vector}, {@code float[]} payloads, {@code boolean[]} masks) in the list
 * are vectors boxed by code C2 has not compiled (or could not intrinsify); the rest is the define-by-run graph
 * (none when replaying a captured step).
 */
public final class TrainStepHeapProbe {
    private TrainStepHeapProbe() {}

    public static void main(String[] args) throws Exception {
        String name = args.length > 0 ? args[0] : TrainingRuns.SMALL_RESNET;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int warm = args.length > 2 ? Integer.parseInt(args[2]) : 600, steps = args.length > 3 ? Integer.parseInt(args[3]) : 400;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        boolean epsilon = false;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
            epsilon |= gc.getName().contains("Epsilon");
        if (!epsilon) {
            System.err.println("TrainStepHeapProbe needs a JVM that does not collect: add -XX:+UnlockExperimentalVMOptions "
                    + "-XX:+UseEpsilonGC -Xmx8g (garbage collectors found: "
                    + ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList() + ")");
            System.exit(2);
        }
        ComputePool.setThreads(threads);
        try (Model model = Model.build(TrainingRuns.spec(name), DType.F32, 1).train();
             Tensor x = TrainingRuns.images(batch, TrainingRuns.imageSize(name));
             Tensor labels = TrainingRuns.labels(batch, TrainingRuns.classes(name), 37)) {
            Sgd sgd = TrainingRuns.sgd(model);
            boolean captured = Boolean.getBoolean("tessera.heapProbe.captured");
            tessera.autograd.CapturedStep step = captured ? TrainingRuns.capture(model, x, labels) : null;
            for (int i = 0; i < warm; i++) run(step, model, sgd, x, labels);
            // the histogram's own text and parsing land on the heap too: measured between two back-to-back
            // histograms and subtracted
            Map<String, long[]> first = histogram(), before = histogram();
            String sites = System.getProperty("tessera.heapProbe.sites");
            jdk.jfr.Recording rec = sites == null ? null : allocationRecording();
            for (int i = 0; i < steps; i++) run(step, model, sgd, x, labels);
            if (rec != null) printSites(rec, java.nio.file.Path.of(sites), steps);
            Map<String, long[]> after = histogram();
            sgd.close();
            if (step != null) step.close();
            System.out.println(captured ? "captured step (CapturedStep.run)" : "eager step (graph built every step)");
            print(name, batch, threads, warm, steps, first, before, after);
        }
    }

    private static void run(tessera.autograd.CapturedStep step, Model model, Sgd sgd, Tensor x, Tensor labels) {
        if (step != null) TrainingRuns.replay(step, model, sgd);
        else TrainingRuns.step(model, sgd, x, labels);
    }

    private static void print(String name, int batch, int threads, int warm, int steps, Map<String, long[]> first,
                              Map<String, long[]> before, Map<String, long[]> after) {
        List<Object[]> rows = new ArrayList<>();
        double totalBytes = 0, totalObjects = 0;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]), f = first.getOrDefault(e.getKey(), new long[2]);
            long objectsIn = e.getValue()[0] - b[0] - (b[0] - f[0]), bytesIn = e.getValue()[1] - b[1] - (b[1] - f[1]);
            double objects = (double) objectsIn / steps, bytes = (double) bytesIn / steps;
            // the fillers Epsilon writes into the unused end of a retired TLAB are no allocation of the step
            if (bytes <= 0 || e.getKey().equals("[Ljdk.internal.vm.FillerElement;")) continue;
            rows.add(new Object[]{e.getKey(), objects, bytes});
            totalBytes += bytes;
            totalObjects += objects;
        }
        rows.sort((p, q) -> Double.compare((double) q[2], (double) p[2]));
        System.out.printf("%s batch %d, %d thread(s), steps %d..%d: heap allocated per training step %.1f KB in %.0f objects%n",
                name, batch, threads, warm, warm + steps, totalBytes / 1e3, totalObjects);
        System.out.printf("%10s %10s  %s%n", "KB/step", "obj/step", "class");
        for (int i = 0; i < Math.min(30, rows.size()); i++) {
            Object[] r = rows.get(i);
            System.out.printf("%10.2f %10.1f  %s%n", (double) r[2] / 1e3, (double) r[1], r[0]);
        }
    }

    /** A JFR recording of every allocation outside a TLAB (all of them with -XX:-UseTLAB), with stack traces. */
    private static jdk.jfr.Recording allocationRecording() {
        jdk.jfr.Recording rec = new jdk.jfr.Recording();
        rec.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
        rec.start();
        return rec;
    }

    /** Bytes per step by allocated class and its first two tessera frames, from the recording (then closed). */
    private static void printSites(jdk.jfr.Recording rec, java.nio.file.Path file, int steps) throws Exception {
        rec.stop();
        rec.dump(file);
        rec.close();
        Map<String, Long> bytes = new HashMap<>();
        try (jdk.jfr.consumer.RecordingFile f = new jdk.jfr.consumer.RecordingFile(file)) {
            while (f.hasMoreEvents()) {
                jdk.jfr.consumer.RecordedEvent e = f.readEvent();
                if (!e.getEventType().getName().equals("jdk.ObjectAllocationOutsideTLAB")) continue;
                StringBuilder site = new StringBuilder(e.getClass("objectClass").getName());
                int shown = 0;
                if (e.getStackTrace() != null)
                    for (jdk.jfr.consumer.RecordedFrame fr : e.getStackTrace().getFrames()) {
                        String type = fr.getMethod().getType().getName();
                        if (!type.startsWith("tessera.") || type.startsWith("tessera.bench.")) continue;
                        site.append(shown == 0 ? " <- " : " < ").append(type.substring(type.lastIndexOf('.') + 1))
                                .append('.').append(fr.getMethod().getName()).append(':').append(fr.getLineNumber());
                        if (++shown == 2) break;
                    }
                bytes.merge(site.toString(), e.getLong("allocationSize"), Long::sum);
            }
        }
        System.out.println("allocating sites, bytes per step:");
        bytes.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(40)
                .forEach(en -> System.out.printf("%8.0f  %s%n", (double) en.getValue() / steps, en.getKey()));
    }

    /** Class name → {instances, bytes} of the whole heap (the diagnostic command behind {@code jcmd GC.class_histogram}). */
    private static Map<String, long[]> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[]{new String[0]}, new String[]{String[].class.getName()});
        Map<String, long[]> counts = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4 || !f[0].endsWith(":")) continue; // header and total lines
            counts.put(f[3], new long[]{Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        return counts;
    }
}
