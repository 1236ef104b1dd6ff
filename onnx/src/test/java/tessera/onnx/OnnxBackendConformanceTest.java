package tessera.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;
import tessera.onnx.proto.OnnxProto.ModelProto;
import tessera.onnx.proto.OnnxProto.TensorProto;
import tessera.onnx.proto.OnnxProto.TypeProto;
import tessera.onnx.proto.OnnxProto.ValueInfoProto;

/**
 * The ONNX backend conformance runner: every committed ONNX 1.12 backend test ({@code src/test/resources/onnx-backend},
 * see its README) whose operators are all in {@link OnnxOps} runs through {@link InferenceSession} and is compared
 * with the reference outputs as ONNX's own backend runner compares them: |actual − expected| ≤ 1e-7 + 1e-3·|expected|
 * element by element, same shapes. When Debian's {@code libonnx-testdata} is installed, the in-table tests that are
 * not committed (the large ones) run from it too; otherwise a notice says they were not run.
 *
 * <p>Inputs: as a service would run the model, the first float32 graph input stays a run-time input and every other
 * graph input (weights, indices, shapes, scales, ...) becomes an initializer with its test value. A model with no
 * float32 input gets an unused float32 input so it can be loaded.
 *
 * <p>Outcomes: PASS; WRONG (ran, result differs — never acceptable); REFUSED (an {@link OnnxFormatException} naming the node and
 * what is unsupported, or an {@link IllegalArgumentException} rejecting an input); CRASH (any other exception). The build fails when a
 * test does not pass, unless {@code known-refusals.txt} lists it with a reason and it is REFUSED; a listed test that
 * passes fails too (the list must shrink with the gaps). {@code reference-errata.txt} lists tests whose expected data
 * contradicts the operator's specification (with the reason): those must come out WRONG, by at most one unit in the last
 * place of their 16-bit float type (their correct values are checked by their own tests). Prints pass/fail per op and the totals, and writes them to
 * {@code target/onnx-backend-report.txt}.
 */
class OnnxBackendConformanceTest {
    static final double RTOL = 1e-3, ATOL = 1e-7;
    static final Path DEBIAN = Path.of("/usr/share/libonnx-testdata/data");
    static final List<String> FOLDERS = List.of("node", "pytorch-converted", "pytorch-operator", "simple");

    enum Outcome { PASS, WRONG, REFUSED, CRASH }

    /** One test's outcome; {@code withinOneUlp} when a WRONG output is still within one unit in the last place of its element type. */
    record Result(String folder, String name, long opset, Set<String> ops, Outcome outcome, String detail, boolean withinOneUlp) {
        Result(String folder, String name, long opset, Set<String> ops, Outcome outcome, String detail) {
            this(folder, name, opset, ops, outcome, detail, false);
        }
    }

    @Test
    void backendTestsOfTheOpTablePass() throws Exception {
        Path root = resourceRoot();
        Map<String, String> known = knownRefusals(root.resolve("known-refusals.txt"));
        Map<String, String> errata = knownRefusals(root.resolve("reference-errata.txt"));
        List<Result> results = new ArrayList<>();
        Set<String> committed = new HashSet<>();
        for (String folder : FOLDERS) {
            Path dir = root.resolve(folder);
            if (!Files.isDirectory(dir)) continue;
            for (Path t : list(dir)) {
                committed.add(folder + "/" + t.getFileName());
                results.add(run(folder, t));
            }
        }
        int fromDebian = 0, notInTable = 0;
        String notice;
        if (Files.isDirectory(DEBIAN)) {
            for (String folder : FOLDERS) {
                Path dir = DEBIAN.resolve(folder);
                if (!Files.isDirectory(dir)) continue;
                for (Path t : list(dir)) {
                    if (committed.contains(folder + "/" + t.getFileName())) continue;
                    if (!inTable(t)) {
                        notInTable++;
                        continue;
                    }
                    results.add(run(folder, t));
                    fromDebian++;
                }
            }
            notice = "ran " + committed.size() + " committed tests and " + fromDebian + " more in-table tests from " + DEBIAN + " ("
                    + notInTable + " tests there use operators outside the op table)";
        } else {
            notice = "NOTICE: " + DEBIAN + " is not installed (Debian package libonnx-testdata): ran the " + committed.size()
                    + " committed tests only; the larger in-table tests were not run";
        }
        String report = report(results, known, errata, notice);
        System.out.println(report);
        Path out = Path.of("target", "onnx-backend-report.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);

        List<String> failures = new ArrayList<>();
        for (Result r : results) {
            String key = r.folder() + "/" + r.name();
            String reason = known.get(key);
            if (errata.containsKey(key)) {
                if (r.outcome() != Outcome.WRONG) {
                    failures.add(key + " is listed in reference-errata.txt (" + errata.get(key) + ") but is " + r.outcome() + ": remove it from the list");
                } else if (!r.withinOneUlp()) {
                    failures.add(key + " deviates from its erratum's expected data by more than one unit in the last place: " + r.detail());
                }
                continue;
            }
            if (r.outcome() == Outcome.PASS) {
                if (reason != null) failures.add(key + " passes but known-refusals.txt lists it (" + reason + "): remove it from the list");
            } else if (r.outcome() != Outcome.REFUSED || reason == null) {
                failures.add(key + " " + r.outcome() + ": " + r.detail());
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " backend tests failed:\n  " + String.join("\n  ", failures));
    }

    // ------------------------------------------------------------------ one test

    static Result run(String folder, Path dir) {
        String name = dir.getFileName().toString();
        ModelProto m;
        try {
            m = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> ops = new TreeSet<>();
        m.getGraph().getNodeList().forEach(n -> ops.add(n.getOpType()));
        long opset = -1;
        for (var o : m.getOpsetImportList()) if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) opset = o.getVersion();
        Path data = dir.resolve("test_data_set_0");
        try (TensorArena arena = new TensorArena()) {
            Set<String> inits = new HashSet<>();
            m.getGraph().getInitializerList().forEach(t -> inits.add(t.getName()));
            List<ValueInfoProto> graphInputs = new ArrayList<>();
            for (ValueInfoProto v : m.getGraph().getInputList()) if (!inits.contains(v.getName())) graphInputs.add(v);
            int dynamic = -1;
            for (int i = 0; i < graphInputs.size() && dynamic < 0; i++) {
                if (graphInputs.get(i).getType().getTensorType().getElemType() == OnnxTensors.FLOAT) dynamic = i;
            }
            var g = m.getGraph().toBuilder().clearInput();
            for (ValueInfoProto v : m.getGraph().getInputList()) if (inits.contains(v.getName())) g.addInput(v);
            TensorProto dynamicValue = null;
            for (int i = 0; i < graphInputs.size(); i++) {
                TensorProto t = declaredBfloat16(TensorProto.parseFrom(Files.readAllBytes(data.resolve("input_" + i + ".pb"))),
                        graphInputs.get(i).getType());
                if (i == dynamic) {
                    g.addInput(graphInputs.get(i));
                    dynamicValue = t;
                } else {
                    g.addInitializer(t.toBuilder().setName(graphInputs.get(i).getName()));
                }
            }
            if (dynamic < 0) {
                g.addInput(ValueInfoProto.newBuilder().setName("conformance#unused").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT).setShape(
                                tessera.onnx.proto.OnnxProto.TensorShapeProto.newBuilder().addDim(
                                        tessera.onnx.proto.OnnxProto.TensorShapeProto.Dimension.newBuilder().setDimValue(1))))));
            }
            byte[] bytes = m.toBuilder().setGraph(g).build().toByteArray();
            List<Tensor> expected = new ArrayList<>();
            for (int k = 0; k < m.getGraph().getOutputCount(); k++) {
                TensorProto t = declaredBfloat16(TensorProto.parseFrom(Files.readAllBytes(data.resolve("output_" + k + ".pb"))),
                        m.getGraph().getOutput(k).getType());
                expected.add(OnnxTensors.toTensor(t, "expected output " + k, OnnxLimits.DEFAULT, arena));
            }
            try (InferenceSession s = InferenceSession.load(bytes, folder + "/" + name, SessionOptions.DEFAULT)) {
                Tensor x = dynamicValue != null ? OnnxTensors.toTensor(dynamicValue, "input", OnnxLimits.DEFAULT, arena)
                        : arena.allocate(tessera.memory.DType.F32, 1);
                Map<String, Tensor> outs = s.run(Map.of(s.inputNames().get(0), x));
                try {
                    String diff = null;
                    boolean ulp = true;
                    List<String> names = s.outputNames();
                    for (int k = 0; k < names.size() && diff == null; k++) diff = compare(names.get(k), outs.get(names.get(k)), expected.get(k));
                    for (int k = 0; k < names.size(); k++) ulp &= withinOneUlp(outs.get(names.get(k)), expected.get(k));
                    return new Result(folder, name, opset, ops, diff == null ? Outcome.PASS : Outcome.WRONG, diff, diff != null && ulp);
                } finally {
                    for (Tensor t : outs.values()) t.close();
                }
            }
        } catch (IllegalArgumentException e) { // OnnxFormatException included: a deliberate, named refusal
            return new Result(folder, name, opset, ops, Outcome.REFUSED, oneLine(e.getMessage()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException | AssertionError | StackOverflowError e) {
            return new Result(folder, name, opset, ops, Outcome.CRASH, oneLine(e.toString()));
        }
    }

    /**
     * ONNX 1.12's backend data stores bfloat16 test values as uint16 tensors holding the bit patterns (its
     * {@code make_tensor} of that release); where the model declares the value bfloat16, the bits are read as bfloat16.
     */
    static TensorProto declaredBfloat16(TensorProto t, TypeProto declared) {
        boolean bf16 = declared.getTensorType().getElemType() == OnnxTensors.BFLOAT16 && t.getDataType() == OnnxTensors.UINT16;
        return bf16 ? t.toBuilder().setDataType(OnnxTensors.BFLOAT16).build() : t;
    }

    /** Null when equal within tolerance, else what differs. */
    static String compare(String name, Tensor actual, Tensor expected) {
        if (!java.util.Arrays.equals(actual.shape(), expected.shape())) {
            return "output '" + name + "' has shape " + java.util.Arrays.toString(actual.shape()) + ", expected " + java.util.Arrays.toString(expected.shape());
        }
        double[] a = actual.toDoubleArray(), b = expected.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            boolean ok = Math.abs(a[i] - b[i]) <= ATOL + RTOL * Math.abs(b[i]) || (Double.isNaN(a[i]) && Double.isNaN(b[i]))
                    || (Double.isInfinite(b[i]) && a[i] == b[i]);
            if (!ok) return "output '" + name + "' element " + i + " is " + a[i] + ", expected " + b[i];
        }
        return null;
    }

    /** Same shape and every element within one unit in the last place of the 16-bit float type, or equal; false otherwise. */
    static boolean withinOneUlp(Tensor actual, Tensor expected) {
        int bits = switch (expected.dtype()) {
            case BF16 -> 8;
            case F16 -> 11;
            default -> -1;
        };
        if (bits < 0 || actual.dtype() != expected.dtype() || !java.util.Arrays.equals(actual.shape(), expected.shape())) return false;
        double[] a = actual.toDoubleArray(), b = expected.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i] || (Double.isNaN(a[i]) && Double.isNaN(b[i]))) continue;
            if (Math.abs(a[i] - b[i]) > Math.ulp((float) b[i]) * (1 << (24 - bits))) return false;
        }
        return true;
    }

    private static String oneLine(String s) { return s == null ? "" : s.replace('\n', ' '); }

    static boolean inTable(Path dir) {
        try {
            ModelProto m = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
            for (var n : m.getGraph().getNodeList()) if (OnnxOps.get(n.getOpType()) == null) return false;
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ report

    static String report(List<Result> results, Map<String, String> known, Map<String, String> errata, String notice) {
        StringBuilder sb = new StringBuilder("ONNX backend conformance (ONNX 1.12 backend test data)\n").append(notice).append('\n');
        Map<String, int[]> perOp = new TreeMap<>(); // pass, wrong, refused, crash, erratum (wrong against listed errata data)
        int[] total = new int[5];
        for (Result r : results) {
            boolean erratum = r.outcome() == Outcome.WRONG && errata.containsKey(r.folder() + "/" + r.name());
            int col = erratum ? 4 : r.outcome().ordinal();
            total[col]++;
            for (String op : r.ops()) perOp.computeIfAbsent(op, k -> new int[5])[col]++;
        }
        sb.append(String.format("%-22s %6s %6s %6s %7s %6s %7s%n", "op", "tests", "pass", "wrong", "refused", "crash", "erratum"));
        for (var e : perOp.entrySet()) {
            int[] c = e.getValue();
            sb.append(String.format("%-22s %6d %6d %6d %7d %6d %7d%n", e.getKey(), c[0] + c[1] + c[2] + c[3] + c[4], c[0], c[1], c[2], c[3], c[4]));
        }
        sb.append(String.format("%-22s %6d %6d %6d %7d %6d %7d%n", "TOTAL", results.size(), total[0], total[1], total[2], total[3], total[4]));
        sb.append("\nper test (not passing):\n");
        for (Result r : results) {
            if (r.outcome() == Outcome.PASS) continue;
            String key = r.folder() + "/" + r.name();
            sb.append(String.format("  %-8s %-60s opset %2d  %s%s%n", r.outcome(), key, r.opset(), r.detail(),
                    known.containsKey(key) ? "  [known: " + known.get(key) + "]" : errata.containsKey(key) ? "  [erratum: " + errata.get(key) + "]" : ""));
        }
        return sb.toString();
    }

    static Map<String, String> knownRefusals(Path file) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        if (!Files.exists(file)) return m;
        for (String line : Files.readAllLines(file)) {
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            int sp = s.indexOf(' ');
            if (sp < 0) throw new IllegalStateException("known-refusals.txt: '" + s + "' has no reason");
            m.put(s.substring(0, sp), s.substring(sp + 1).strip());
        }
        return m;
    }

    static Path resourceRoot() throws URISyntaxException {
        var url = OnnxBackendConformanceTest.class.getResource("/onnx-backend/README.md");
        if (url == null) throw new IllegalStateException("test resources /onnx-backend are missing");
        return Path.of(url.toURI()).getParent();
    }

    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.exists(p.resolve("model.onnx"))).sorted().toList();
        }
    }
}
