package tessera.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;
import tessera.onnx.batching.BatcherOptions;
import tessera.onnx.infer.InferenceSession;
import tessera.onnx.infer.SessionOptions;

/** The real server on a free loopback port: every endpoint, bad inputs, batching, backpressure and graceful shutdown. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ModelServerTest {
    @TempDir static Path dir;
    static Path lenetFile, resnetFile;
    static ModelServer server;
    static InferenceSession lenet, resnet;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    static final long BODY_LIMIT = 1 << 20;

    @BeforeAll
    static void start() throws IOException {
        lenetFile = copy("lenet5.onnx");
        resnetFile = copy("resnet_tiny.onnx");
        lenet = InferenceSession.load(lenetFile);
        resnet = InferenceSession.load(resnetFile);
        var cfg = ModelServer.Config.of(List.of(
                        new ModelServer.ModelSource("lenet", lenetFile, null),
                        new ModelServer.ModelSource("resnet", resnetFile, "imagenet")))
                .withBatcher(BatcherOptions.DEFAULT.withMaxBatch(8).withMaxDelay(Duration.ofMillis(5)))
                .withMaxBodyBytes(BODY_LIMIT)
                .withWarmup(true);
        server = ModelServer.start(cfg);
    }

    @AfterAll
    static void stop() {
        if (server != null) assertTrue(server.shutdown(Duration.ofSeconds(30)));
        lenet.close();
        resnet.close();
    }

    static Path copy(String name) throws IOException {
        try (InputStream in = ModelServerTest.class.getResourceAsStream("/onnx/" + name)) {
            Path p = dir.resolve(name);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }

    static float[] fixture(String name) throws IOException {
        try (InputStream in = ModelServerTest.class.getResourceAsStream("/onnx/" + name); Tensor t = Npy.read(in)) {
            return t.toFloatArray();
        }
    }

    record Reply(int status, String body, byte[] bytes, HttpResponse<byte[]> raw) {}

    static Reply get(ModelServer s, String path) throws Exception {
        var r = http.send(HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), r.body(), r);
    }

    static Reply post(ModelServer s, String path, byte[] body, String... headers) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) b.headers(headers);
        var r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), r.body(), r);
    }

    static Reply post(ModelServer s, String path, String json) throws Exception {
        return post(s, path, json.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    static String jsonRequest(String input, String datatype, int[] shape, float[] data) {
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"").append(input).append("\",\"datatype\":\"").append(datatype).append("\",\"shape\":[");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ",").append(shape[i]);
        sb.append("],\"data\":[");
        for (int i = 0; i < data.length; i++) sb.append(i == 0 ? "" : ",").append(data[i]);
        return sb.append("]}]}").toString();
    }

    /** A binary-extension request asking for binary output; returns the body and the JSON header length. */
    static byte[] binaryRequest(String input, int[] shape, float[] data, int[] headerLength) {
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"").append(input).append("\",\"datatype\":\"FP32\",\"shape\":[");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ",").append(shape[i]);
        sb.append("],\"parameters\":{\"binary_data_size\":").append(data.length * 4).append("}}],\"parameters\":{\"binary_data_output\":true}}");
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        headerLength[0] = json.length;
        ByteBuffer bb = ByteBuffer.allocate(json.length + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(json);
        bb.asFloatBuffer().put(data);
        return bb.array();
    }

    static float[] binaryOutput(Reply r) {
        int h = Integer.parseInt(r.raw.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        float[] f = new float[(r.bytes.length - h) / 4];
        ByteBuffer.wrap(r.bytes, h, r.bytes.length - h).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    static float[] jsonData(String body) {
        Matcher m = Pattern.compile("\"data\":\\[([^\\]]*)]").matcher(body);
        assertTrue(m.find(), "no data in " + body);
        String[] p = m.group(1).split(",");
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) f[i] = Float.parseFloat(p[i]);
        return f;
    }

    static float[] alone(InferenceSession s, float[] x, int... shape) {
        try (Tensor t = Tensor.of(x, shape); Tensor y = s.run(t)) {
            return y.toFloatArray();
        }
    }

    /** Equal up to float rounding (batched kernels may sum in another order); a mix-up between requests is far larger. */
    static boolean close(float[] expected, float[] got) {
        if (expected.length != got.length) return false;
        for (int i = 0; i < expected.length; i++) if (!(Math.abs(expected[i] - got[i]) <= 1e-5 * (1 + Math.abs(expected[i])))) return false;
        return true;
    }

    static void assertError(Reply r, int status, String fragment) {
        assertEquals(status, r.status, () -> "status for " + fragment + ": " + r.body);
        assertTrue(r.body.startsWith("{\"error\":\"") && r.body.endsWith("\"}") && !r.body.contains("\n"), "not a one-line {\"error\":…}: " + r.body);
        assertTrue(r.body.toLowerCase(Locale.ROOT).contains(fragment.toLowerCase(Locale.ROOT)), () -> "'" + fragment + "' missing from " + r.body);
        assertTrue(r.raw.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    }

    @Test
    void healthAndServerMetadata() throws Exception {
        Reply live = get(server, "/v2/health/live");
        assertEquals(200, live.status);
        assertEquals("{\"live\":true}", live.body);
        Reply ready = get(server, "/v2/health/ready");
        assertEquals(200, ready.status);
        assertEquals("{\"ready\":true}", ready.body);
        Reply meta = get(server, "/v2");
        assertEquals(200, meta.status);
        assertTrue(meta.body.contains("\"binary_tensor_data\""), meta.body);
        assertError(get(server, "/v3/whatever"), 404, "no such endpoint");
    }

    @Test
    void modelMetadataAndReadiness() throws Exception {
        Reply m = get(server, "/v2/models/lenet");
        assertEquals(200, m.status, m.body);
        assertTrue(m.body.startsWith("{\"name\":\"lenet\",\"versions\":[\"1\"],\"platform\":\"onnx_tessera\","), m.body);
        assertTrue(m.body.contains("\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}]"), m.body);
        assertTrue(m.body.contains("\"outputs\":[{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]"), m.body);
        assertTrue(m.body.contains("\"max_batch_size\":8"), m.body);
        Reply r = get(server, "/v2/models/resnet");
        assertTrue(r.body.contains("\"image_preprocess\":\"resize shorter side to 37, center crop 32x32"), r.body);
        assertEquals(200, get(server, "/v2/models/lenet/versions/1").status);
        assertError(get(server, "/v2/models/lenet/versions/2"), 404, "no version '2'");
        Reply ready = get(server, "/v2/models/lenet/ready");
        assertEquals(200, ready.status);
        assertEquals("{\"name\":\"lenet\",\"ready\":true}", ready.body);
        assertError(get(server, "/v2/models/nope"), 404, "unknown model 'nope'");
        assertError(get(server, "/v2/models/nope/ready"), 404, "unknown model 'nope'");
    }

    @Test
    void jsonAndBinaryInferenceGiveTheSessionsAnswer() throws Exception {
        float[] x = fixture("lenet5.input.npy");
        float[] expected = alone(lenet, x, 2, 1, 28, 28);
        float[] reference = fixture("lenet5.output.npy");
        for (int i = 0; i < reference.length; i++) assertEquals(reference[i], expected[i], 1e-3 * (1 + Math.abs(reference[i])));

        Reply j = post(server, "/v2/models/lenet/infer", jsonRequest("input", "FP32", new int[] {2, 1, 28, 28}, x).replace("{\"inputs\"", "{\"id\":\"req-7\",\"inputs\""));
        assertEquals(200, j.status, j.body);
        assertTrue(j.body.startsWith("{\"model_name\":\"lenet\",\"model_version\":\"1\",\"id\":\"req-7\",\"outputs\":[{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[2,10],\"data\":["), j.body);
        assertArrayEquals(expected, jsonData(j.body), "JSON floats round-trip exactly");

        int[] hl = new int[1];
        byte[] body = binaryRequest("input", new int[] {2, 1, 28, 28}, x, hl);
        Reply b = post(server, "/v2/models/lenet/infer", body, "Content-Type", "application/octet-stream", "Inference-Header-Content-Length", Integer.toString(hl[0]));
        assertEquals(200, b.status, b.body);
        assertEquals("application/octet-stream", b.raw.headers().firstValue("Content-Type").orElseThrow());
        String header = new String(b.bytes, 0, Integer.parseInt(b.raw.headers().firstValue("Inference-Header-Content-Length").orElseThrow()), StandardCharsets.UTF_8);
        assertTrue(header.contains("\"parameters\":{\"binary_data_size\":80}"), header);
        assertArrayEquals(expected, binaryOutput(b));

        // nested data arrays and the versioned path are accepted too; asking for the output by name
        String nested = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[[" + jsonRequest("i", "FP32", new int[0], java.util.Arrays.copyOf(x, 784)).replaceAll(".*\"data\":\\[(.*)]}]}", "$1") + "]]}],\"outputs\":[{\"name\":\"output\"}]}";
        Reply n = post(server, "/v2/models/lenet/versions/1/infer", nested);
        assertEquals(200, n.status, n.body);
        assertTrue(close(java.util.Arrays.copyOf(expected, 10), jsonData(n.body)), n.body);
    }

    @Test
    void badInputsGetA4xxWithOneLineReasonAndTheServerKeepsServing() throws Exception {
        float[] x = new float[784];
        String path = "/v2/models/lenet/infer";
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 27, 28}, new float[756])), 400, "does not match the model's input 'input' [-1, 1, 28, 28]");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 28, 28}, x)), 400, "rank 3");
        assertError(post(server, path, jsonRequest("input", "FP64", new int[] {1, 1, 28, 28}, x)), 400, "datatype FP64; the model takes FP32");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, new float[783])), 400, "input has 783 elements, shape [1, 1, 28, 28] needs 784");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 32, 32}, new float[3])), 400, "input shape [1, 1, 32, 32] does not match the model's input 'input' [-1, 1, 28, 28]");
        assertError(post(server, path, jsonRequest("image", "FP32", new int[] {1, 1, 28, 28}, x)), 400, "unknown input 'image'");
        assertError(post(server, path, "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[1,2,"), 400, "malformed JSON: Unexpected end-of-input within/between Array entries at line 1, column 78");
        assertError(post(server, path, "{\"inputs\":[{"), 400, "{\"error\":\"malformed JSON: Unexpected end-of-input: expected close marker for Object (opened at line 1, column 12) at line 1, column 13\"}");
        assertError(post(server, path, "not json at all"), 400, "malformed JSON");
        assertError(post(server, path, "[1,2]"), 400, "must be a JSON object");
        assertError(post(server, path, "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[\"a\"]}]}"), 400, "element 0 is a string");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, x).replace("[0.0,", "[1e39,")), 400, "not a finite float32");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, x).replace("[0.0,", "[NaN,")), 400, "malformed JSON");
        assertError(post(server, path, jsonRequest("input", "FP32", new int[] {9, 1, 28, 28}, new float[9 * 784])), 400, "exceeds the batcher's max batch 8");
        assertError(post(server, path, "{\"inputs\":[]}"), 400, "the request has 0");
        assertError(post(server, path, "{}"), 400, "the request has 0");
        assertError(post(server, "/v2/models/lenet/infer", jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, x).replace("]}]}", "]}],\"outputs\":[{\"name\":\"logits\"}]}")), 400, "unknown output 'logits'");
        assertError(post(server, "/v2/models/nope/infer", jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, x)), 404, "unknown model 'nope'");
        // binary extension: sizes that do not add up
        int[] hl = new int[1];
        byte[] good = binaryRequest("input", new int[] {1, 1, 28, 28}, x, hl);
        assertError(post(server, path, java.util.Arrays.copyOf(good, good.length - 4), "Inference-Header-Content-Length", Integer.toString(hl[0])), 400, "runs past the end");
        assertError(post(server, path, java.util.Arrays.copyOf(good, good.length + 8), "Inference-Header-Content-Length", Integer.toString(hl[0])), 400, "8 bytes of binary data");
        assertError(post(server, path, good, "Inference-Header-Content-Length", "abc"), 400, "is not a number");
        float[] nan = x.clone();
        nan[5] = Float.NaN;
        assertError(post(server, path, binaryRequest("input", new int[] {1, 1, 28, 28}, nan, hl), "Inference-Header-Content-Length", Integer.toString(hl[0])), 400, "element 5 (NaN) is not a finite");
        // a body over the limit
        // (with Expect: 100-continue, as curl sends for bodies over 1 MB: the server answers 413 from the headers and closes
        // the connection unread; a client that streams the body regardless may see that close before the answer)
        var oversized = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(60)).expectContinue(true)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[(int) BODY_LIMIT + 10])).build();
        var tooLarge = http.send(oversized, HttpResponse.BodyHandlers.ofByteArray());
        assertError(new Reply(tooLarge.statusCode(), new String(tooLarge.body(), StandardCharsets.UTF_8), tooLarge.body(), tooLarge), 413,
                "exceeds the limit of 1048576 bytes");
        // and the server still answers
        Reply ok = post(server, path, jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, x));
        assertEquals(200, ok.status, ok.body);
        String metrics = get(server, "/metrics").body;
        assertTrue(metric(metrics, "tessera_requests_total{model=\"lenet\",outcome=\"bad_request\"}") >= 18, metrics);
        assertTrue(metric(metrics, "tessera_requests_total{model=\"lenet\",outcome=\"too_large\"}") >= 1, metrics);
        assertTrue(metric(metrics, "tessera_requests_total{model=\"_unknown\",outcome=\"not_found\"}") >= 1, metrics);
    }

    static double metric(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim());
        }
        return Double.NaN;
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
        int clients = 24, each = 4, n = 3 * 32 * 32;
        double batchesBefore = metric(get(server, "/metrics").body, "tessera_batch_size_count{model=\"resnet\"}");
        double rowsBefore = metric(get(server, "/metrics").body, "tessera_batch_size_sum{model=\"resnet\"}");
        List<String> failures = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int id = c;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    for (int k = 0; k < each; k++) {
                        Random rnd = new Random(id * 100L + k);
                        float[] x = new float[n];
                        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
                        int[] hl = new int[1];
                        Reply r = post(server, "/v2/models/resnet/infer", binaryRequest("input", new int[] {1, 3, 32, 32}, x, hl), "Inference-Header-Content-Length", Integer.toString(hl[0]));
                        if (r.status != 200) failures.add("client " + id + ": " + r.status + " " + r.body);
                        else if (!close(alone(resnet, x, 1, 3, 32, 32), binaryOutput(r))) failures.add("client " + id + " request " + k + " got a wrong answer");
                    }
                } catch (Exception e) {
                    failures.add("client " + id + ": " + e);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) t.join();
        assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.get(0));
        String m = get(server, "/metrics").body;
        double batches = metric(m, "tessera_batch_size_count{model=\"resnet\"}") - batchesBefore;
        double rows = metric(m, "tessera_batch_size_sum{model=\"resnet\"}") - rowsBefore;
        assertEquals(clients * each, rows, 0.0, "every request's row ran exactly once");
        assertTrue(batches < clients * each, "24 concurrent clients never shared a batch: " + batches + " runs for " + rows + " rows");
        assertTrue(m.contains("tessera_request_duration_seconds_bucket{model=\"resnet\",le=\"0.1\"}"), m);
        assertTrue(m.contains("tessera_queue_depth{model=\"resnet\"} 0.0"), m);
        assertTrue(metric(m, "tessera_requests_total{model=\"resnet\",outcome=\"ok\"}") >= clients * each, m);
    }

    @Test
    void imagePathPreprocessesAsDeclaredAndRanksTheOutput() throws Exception {
        BufferedImage img = new BufferedImage(50, 40, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(3);
        for (int y = 0; y < 40; y++) for (int x = 0; x < 50; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        Reply r = post(server, "/v2/models/resnet/image?top=3&outputs=true", png.toByteArray(), "Content-Type", "image/png");
        assertEquals(200, r.status, r.body);
        float[] x = Preprocess.parse("imagenet", 3, 32).apply(png.toByteArray(), 3, 32, 32);
        float[] y = alone(resnet, x, 1, 3, 32, 32);
        assertArrayEquals(y, jsonData(r.body));
        int best = 0;
        for (int i = 1; i < y.length; i++) if (y[i] > y[best]) best = i;
        assertTrue(r.body.contains("\"top\":[{\"index\":" + best + ",\"value\":" + y[best] + "}"), r.body);
        assertEquals(3, r.body.split("\"index\"").length - 1, r.body);
        // a grayscale model takes the image as luma
        Reply g = post(server, "/v2/models/lenet/image", png.toByteArray(), "Content-Type", "image/png");
        assertEquals(200, g.status, g.body);
        assertError(post(server, "/v2/models/resnet/image", "hello".getBytes(StandardCharsets.UTF_8), "Content-Type", "image/png"), 415, "not an image");
        assertError(post(server, "/v2/models/resnet/image", new byte[0], "Content-Type", "image/png"), 400, "no body");
    }

    @Test
    void aFullQueueAnswers503AndTheServerRecovers() throws Exception {
        // batches wait up to 1.5 s to fill to 4 rows; the queue holds 3 requests
        var cfg = ModelServer.Config.of(List.of(new ModelServer.ModelSource("lenet", lenetFile, null)))
                .withBatcher(BatcherOptions.DEFAULT.withMaxBatch(4).withMaxDelay(Duration.ofMillis(1500)).withQueueCapacity(3));
        try (ModelServer s = ModelServer.start(cfg)) {
            String body = jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, new float[784]);
            List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiting.add(http.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v2/models/lenet/infer")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (metric(get(s, "/metrics").body, "tessera_queue_depth{model=\"lenet\"}") < 3 && System.nanoTime() < until) Thread.sleep(5);
            assertEquals(3.0, metric(get(s, "/metrics").body, "tessera_queue_depth{model=\"lenet\"}"));
            assertError(post(s, "/v2/models/lenet/infer", body), 503, "overloaded");
            for (var f : waiting) assertEquals(200, f.get(30, TimeUnit.SECONDS).statusCode(), "accepted requests still complete");
            assertEquals(200, post(s, "/v2/models/lenet/infer", body).status, "served again once the queue drained");
            assertEquals(1.0, metric(get(s, "/metrics").body, "tessera_requests_total{model=\"lenet\",outcome=\"overloaded\"}"));
        }
    }

    @Test
    void shutdownFinishesAcceptedRequestsRefusesNewOnesAndStops() throws Exception {
        var cfg = ModelServer.Config.of(List.of(new ModelServer.ModelSource("lenet", lenetFile, null)))
                .withBatcher(BatcherOptions.DEFAULT.withMaxBatch(4).withMaxDelay(Duration.ofMillis(1500)));
        ModelServer s = ModelServer.start(cfg);
        String url = s.url();
        String body = jsonRequest("input", "FP32", new int[] {1, 1, 28, 28}, new float[784]);
        var accepted = http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v2/models/lenet/infer")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (metric(get(s, "/metrics").body, "tessera_queue_depth{model=\"lenet\"}") < 1 && System.nanoTime() < until) Thread.sleep(5);
        CompletableFuture<Boolean> down = CompletableFuture.supplyAsync(() -> s.shutdown(Duration.ofSeconds(30)));
        until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (get(s, "/v2/health/ready").status == 200 && System.nanoTime() < until) Thread.sleep(5);
        assertError(get(s, "/v2/health/ready"), 503, "shutting down");
        assertError(get(s, "/v2/models/lenet/ready"), 503, "shutting down");
        assertError(post(s, "/v2/models/lenet/infer", body), 503, "shutting down");
        assertFalse(down.isDone(), "shutdown waits for the accepted request");
        HttpResponse<String> r = accepted.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(down.get(30, TimeUnit.SECONDS), "every accepted request finished within the grace period");
        assertEquals(url, s.url());
        Exception e = assertThrows(Exception.class, () -> get(s, "/v2/health/live"), "the listener is closed after shutdown");
        assertTrue(e instanceof ConnectException || e.getCause() instanceof ConnectException, "not a refused connection: " + e);
    }
}
