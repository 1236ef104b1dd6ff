package tessera.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tessera.onnx.batching.BatcherOptions;
import tessera.serve.ModelServer;

/** {@code tessera serve} as a real process (SIGTERM drains and exits 0) and {@code tessera loadgen} against a live server. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServeCommandTest {
    @TempDir Path dir;

    private Path resource(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = ServeCommandTest.class.getResourceAsStream("/onnx/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Test
    void sigtermFinishesTheAcceptedRequestAndExitsZero() throws Exception {
        Path model = resource("lenet5.onnx");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // a batch waits up to 5 s to fill: the request below, seen queued, is still queued when SIGTERM follows at once
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", classpath(),
                "tessera.cli.TesseraCli", "serve", "--model", "lenet=" + model, "--port", "0", "--max-delay-us", "5000000", "--no-warmup")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String url = null;
            List<String> lines = new ArrayList<>();
            String line;
            while ((line = out.readLine()) != null) {
                lines.add(line);
                Matcher m = Pattern.compile("^listening on (http://127\\.0\\.0\\.1:\\d+)$").matcher(line);
                if (m.matches()) {
                    url = m.group(1);
                    break;
                }
            }
            assertNotNull(url, "no 'listening on http://127.0.0.1:PORT' line in " + lines);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 784; i++) data.append(i == 0 ? "" : ",").append(i % 7 * 0.1);
            String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
            CompletableFuture<HttpResponse<String>> accepted = http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v2/models/lenet/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            // wait until the server has queued it (a hang guard: polls at most 4,000 times)
            int polls = 0;
            while (!http.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body()
                    .contains("tessera_queue_depth{model=\"lenet\"} 1.0")) {
                assertTrue(++polls < 4000, "the request never showed in the queue depth");
                Thread.sleep(5);
            }
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            HttpResponse<String> r = accepted.get(60, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"shape\":[1,10]"), r.body());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server did not exit after SIGTERM");
            StringBuilder rest = new StringBuilder();
            while ((line = out.readLine()) != null) rest.append(line).append('\n');
            assertEquals(0, p.exitValue(), "exit status after SIGTERM; output: " + rest);
            assertTrue(rest.toString().contains("stopped after 1 inference requests"), rest.toString());
        } finally {
            p.destroyForcibly();
        }
    }

    private static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new CommandLine(new TesseraCli()).execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void loadgenPrintsOneLineWithTheServersMeanBatch() throws Exception {
        Path model = resource("lenet5.onnx");
        Path input = resource("lenet5.input.npy"); // [2, 1, 28, 28]: each request carries two images
        var cfg = ModelServer.Config.of(List.of(new ModelServer.ModelSource("lenet", model, null)))
                .withBatcher(BatcherOptions.DEFAULT.withMaxBatch(8).withMaxDelay(Duration.ofMillis(2)));
        try (ModelServer s = ModelServer.start(cfg)) {
            for (String mode : new String[] {"--json", "--clients"}) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
                List<String> args = new ArrayList<>(List.of("loadgen", "--url", s.url(), "--model", "lenet", "--input", input.toString(), "--clients", "4", "--requests", "40", "--seconds", "600"));
                if (mode.equals("--json")) args.add("--json");
                int code = run(out, err, args.toArray(String[]::new));
                String text = out.toString(StandardCharsets.UTF_8);
                assertEquals(0, code, text + err.toString(StandardCharsets.UTF_8));
                String[] lines = text.strip().split("\n");
                assertEquals(1, lines.length, "exactly one line: " + text);
                Matcher m = Pattern.compile("^loadgen: clients 4, requests (\\d+), errors 0, throughput ([0-9.]+) req/s, p50 ([0-9.]+) ms, p90 ([0-9.]+) ms, p99 ([0-9.]+) ms, mean batch ([0-9.]+)$").matcher(lines[0]);
                assertTrue(m.matches(), lines[0]);
                assertEquals(40, Long.parseLong(m.group(1)), "bounded by --requests: " + lines[0]);
                double p50 = Double.parseDouble(m.group(3)), p90 = Double.parseDouble(m.group(4)), p99 = Double.parseDouble(m.group(5));
                assertTrue(p50 <= p90 && p90 <= p99, lines[0]);
                double meanBatch = Double.parseDouble(m.group(6));
                assertTrue(meanBatch >= 2 && meanBatch <= 8, "two-image requests, max batch 8: " + lines[0]);
            }
        }
    }

    @Test
    void loadgenRefusesAnythingButLoopbackBeforeSendingAndServeRejectsBadArguments() throws Exception {
        Path input = resource("lenet5.input.npy");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = run(out, err, "loadgen", "--url", "http://203.0.113.5:8000", "--model", "m", "--input", input.toString(), "--clients", "1", "--seconds", "1");
        assertEquals(1, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("is not a loopback address"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        code = run(out, err, "serve", "--model", "lenet", "--port", "0");
        assertEquals(1, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("tessera serve: error: --model 'lenet' must be NAME=VALUE"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        code = run(out, err, "serve", "--model", "a=" + dir.resolve("missing.onnx"), "--port", "0");
        assertEquals(1, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("file not found"), err.toString(StandardCharsets.UTF_8));
    }
}
