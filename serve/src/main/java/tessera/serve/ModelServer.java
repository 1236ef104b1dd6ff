package tessera.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import tessera.onnx.batching.BatchResult;
import tessera.onnx.batching.BatcherOptions;
import tessera.onnx.batching.RejectedRequestException;
import tessera.onnx.infer.SessionOptions;

/**
 * The Tessera model server: ONNX models behind the Open Inference Protocol v2 (KServe v2 REST) on a Helidon SE
 * webserver (every request on its own virtual thread), each model with its own {@link tessera.onnx.batching.DynamicBatcher}.
 *
 * <p>Endpoints: {@code GET /v2}, {@code /v2/health/live}, {@code /v2/health/ready}, {@code /v2/models/{name}},
 * {@code /v2/models/{name}/ready}; {@code POST /v2/models/{name}/infer} (JSON tensors, or the binary tensor data
 * extension); {@code POST /v2/models/{name}/image} (a PNG/JPEG body, preprocessed as declared for the model);
 * {@code GET /metrics} (Prometheus text). The {@code /v2/models/{name}/versions/1/…} forms work too.
 *
 * <p>Errors are {@code {"error":"one line"}} with 400 (bad request), 404 (unknown model or path), 413 (body over the
 * limit), 415 (not an image), 503 (not ready, shutting down, queue full, deadline passed) or 500 (the model failed).
 *
 * <p>{@link #shutdown(Duration)} drains: new inference requests get 503 and readiness turns 503, requests already
 * being handled finish, then the listener stops and the models are freed.
 */
public final class ModelServer implements AutoCloseable {
    /** A model to serve: its name in URLs, its ONNX file and its image preprocessing (null = the default). */
    public record ModelSource(String name, Path file, String preprocess) {
        public ModelSource {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(file, "file");
            if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("model name '" + name + "' must be 1-64 letters, digits, '_', '.' or '-'");
            }
        }
    }

    /**
     * Server settings.
     *
     * @param host         address to bind (127.0.0.1 unless told otherwise)
     * @param port         port (0 = any free port)
     * @param threads      intra-op compute threads shared by all models (0 = all cores)
     * @param batcher      dynamic batching settings, per model
     * @param maxBodyBytes largest request body accepted (413 beyond)
     * @param warmup       run every batch size once at start, so that the first requests do not pay for planning
     */
    public record Config(String host, int port, List<ModelSource> models, int threads, BatcherOptions batcher, long maxBodyBytes, boolean warmup) {
        public Config {
            if (models == null || models.isEmpty()) throw new IllegalArgumentException("no model to serve: give at least one --model NAME=PATH.onnx");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is not in 0..65535");
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
            if (maxBodyBytes < 1024) throw new IllegalArgumentException("the body limit must be >= 1024 bytes, got " + maxBodyBytes);
            models = List.copyOf(models);
        }

        public static Config of(List<ModelSource> models) {
            return new Config("127.0.0.1", 0, models, 0, BatcherOptions.DEFAULT, 64L << 20, false);
        }

        public Config withPort(int p) { return new Config(host, p, models, threads, batcher, maxBodyBytes, warmup); }

        public Config withHost(String h) { return new Config(h, port, models, threads, batcher, maxBodyBytes, warmup); }

        public Config withBatcher(BatcherOptions b) { return new Config(host, port, models, threads, b, maxBodyBytes, warmup); }

        public Config withMaxBodyBytes(long m) { return new Config(host, port, models, threads, batcher, m, warmup); }

        public Config withThreads(int t) { return new Config(host, port, models, t, batcher, maxBodyBytes, warmup); }

        public Config withWarmup(boolean w) { return new Config(host, port, models, threads, batcher, maxBodyBytes, w); }
    }

    private static final String JSON = "application/json";

    private final Config config;
    private final Map<String, ServedModel> models = new LinkedHashMap<>();
    private final List<ServedModel> modelList = new CopyOnWriteArrayList<>();
    private final ServeMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    private final Object drained = new Object();
    private final WebServer server;
    private final int port;
    private volatile boolean draining;
    private boolean stopped;

    private ModelServer(Config config) {
        this.config = config;
        this.metrics = new ServeMetrics(modelList, inFlight::get);
        SessionOptions so = SessionOptions.DEFAULT.withThreads(config.threads());
        try {
            for (ModelSource src : config.models()) {
                if (models.containsKey(src.name())) throw new IllegalArgumentException("model name '" + src.name() + "' is given twice");
                String name = src.name();
                ServedModel m = ServedModel.load(name, src.file(), so, config.batcher(), src.preprocess(),
                        (requests, rows, runRows, nanos, failed) -> metrics.batch(name, rows, nanos));
                models.put(name, m);
                modelList.add(m);
            }
            if (config.warmup()) for (ServedModel m : modelList) warmup(m);
            InetAddress bind = InetAddress.getByName(config.host());
            this.server = WebServer.builder()
                    .address(bind)
                    .port(config.port())
                    .shutdownHook(false)
                    .routing(this::routes)
                    .build()
                    .start();
            this.port = server.port();
        } catch (UnknownHostException e) {
            closeModels();
            throw new IllegalArgumentException("cannot resolve host '" + config.host() + "'");
        } catch (RuntimeException e) {
            closeModels();
            throw e;
        }
    }

    /** Loads the models and starts listening; returns once requests are served. */
    public static ModelServer start(Config config) { return new ModelServer(config); }

    public int port() { return port; }

    public String host() { return config.host(); }

    /** {@code http://host:port}. */
    public String url() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + h + ":" + port();
    }

    /** Inference requests answered with 200 so far. */
    public long served() { return served.get(); }

    /** Runs each batch size (1, 2, 4, …, maxBatch) once on zeros, so planning happens before the first request. */
    private void warmup(ServedModel m) {
        int[] in = m.inputShape();
        for (int d = 1; d < in.length; d++) if (in[d] < 0) return; // dynamic image size: nothing fixed to plan
        List<Integer> sizes = new ArrayList<>();
        if (m.batcher().batching()) {
            for (int b = 1; b < config.batcher().maxBatch(); b *= 2) sizes.add(b);
            sizes.add(config.batcher().maxBatch());
        } else {
            sizes.add(in[0]);
        }
        for (int rows : sizes) {
            int[] shape = in.clone();
            shape[0] = rows;
            try {
                m.batcher().submit(new float[Math.toIntExact(InferCodec.numel(shape))], shape, Duration.ofMinutes(10)).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                throw new IllegalStateException("model '" + m.name() + "' failed its warm-up run at batch " + rows + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    private void routes(HttpRouting.Builder r) {
        r.get("/v2/health/live", (req, res) -> json(res, 200, "{\"live\":true}"))
                .get("/v2/health/ready", (req, res) -> {
                    if (draining) sendError(res, 503, "not ready: the server is shutting down");
                    else json(res, 200, "{\"ready\":true}");
                })
                .get("/v2", (req, res) -> json(res, 200, "{\"name\":\"tessera\",\"version\":\"0.1.0\",\"extensions\":[\"binary_tensor_data\",\"image\"]}"))
                .get("/v2/models/{name}", (req, res) -> handle(req, res, Kind.METADATA))
                .get("/v2/models/{name}/versions/{version}", (req, res) -> handle(req, res, Kind.METADATA))
                .get("/v2/models/{name}/ready", (req, res) -> handle(req, res, Kind.READY))
                .get("/v2/models/{name}/versions/{version}/ready", (req, res) -> handle(req, res, Kind.READY))
                .post("/v2/models/{name}/infer", (req, res) -> handle(req, res, Kind.INFER))
                .post("/v2/models/{name}/versions/{version}/infer", (req, res) -> handle(req, res, Kind.INFER))
                .post("/v2/models/{name}/image", (req, res) -> handle(req, res, Kind.IMAGE))
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, metrics.contentType());
                    res.send(metrics.scrape());
                })
                .any((req, res) -> sendError(res, 404, "no such endpoint: " + req.prologue().method().text() + " " + req.path().path()));
    }

    private enum Kind { METADATA, READY, INFER, IMAGE }

    private void handle(ServerRequest req, ServerResponse res, Kind kind) {
        long t0 = System.nanoTime();
        String name = req.path().pathParameters().get("name");
        ServedModel m = models.get(name);
        String label = m == null ? ServeMetrics.UNKNOWN_MODEL : name;
        boolean inference = kind == Kind.INFER || kind == Kind.IMAGE;
        if (inference) inFlight.incrementAndGet();
        try {
            if (m == null) throw HttpError.notFound("unknown model '" + name + "'; served: " + models.keySet());
            if (req.path().pathParameters().contains("version") && !"1".equals(req.path().pathParameters().get("version"))) {
                throw HttpError.notFound("model '" + name + "' has no version '" + req.path().pathParameters().get("version") + "' (only 1)");
            }
            switch (kind) {
                case METADATA -> json(res, 200, metadata(m));
                case READY -> {
                    if (draining) throw HttpError.unavailable("unavailable", "model '" + name + "' is not ready: the server is shutting down");
                    json(res, 200, "{\"name\":\"" + name + "\",\"ready\":true}");
                }
                case INFER -> infer(req, res, m);
                case IMAGE -> image(req, res, m);
            }
            if (inference) {
                metrics.requests.labelValues(label, "ok").inc();
                metrics.latency.labelValues(label).observe((System.nanoTime() - t0) / 1e9);
                served.incrementAndGet();
            }
        } catch (HttpError e) {
            if (inference) metrics.requests.labelValues(label, e.outcome).inc();
            sendError(res, e.status, e.getMessage());
        } catch (RuntimeException e) {
            if (inference) metrics.requests.labelValues(label, "error").inc();
            sendError(res, 500, "internal error: " + message(e));
        } finally {
            if (inference && inFlight.decrementAndGet() == 0) {
                synchronized (drained) {
                    drained.notifyAll();
                }
            }
        }
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : InferCodec.oneLine(e.getMessage());
    }

    private void admit(ServedModel m) {
        if (draining) throw HttpError.unavailable("unavailable", "the server is shutting down");
        if (m.queueFull()) {
            throw HttpError.unavailable("overloaded", "overloaded: model '" + m.name() + "' has " + m.batcher().options().queueCapacity() + " requests waiting; retry later");
        }
    }

    private void infer(ServerRequest req, ServerResponse res, ServedModel m) {
        admit(m);
        int headerLength = -1;
        var hl = req.headers().value(HeaderNames.create(InferCodec.HEADER_LENGTH));
        if (hl.isPresent()) {
            try {
                headerLength = Integer.parseInt(hl.get().trim());
            } catch (NumberFormatException e) {
                throw HttpError.badRequest(InferCodec.HEADER_LENGTH + " '" + hl.get() + "' is not a number");
            }
            if (headerLength < 0) throw HttpError.badRequest(InferCodec.HEADER_LENGTH + " must be >= 0");
        }
        byte[] body = readBody(req);
        InferCodec.Request r = InferCodec.parse(body, headerLength, config.maxBodyBytes() / 2);
        if (r.inputs.size() != 1) {
            throw HttpError.badRequest("model '" + m.name() + "' takes one input '" + m.inputName() + "', the request has " + r.inputs.size());
        }
        InferCodec.Input in = r.inputs.get(0);
        if (!in.name.equals(m.inputName())) throw HttpError.badRequest("unknown input '" + in.name + "'; model '" + m.name() + "' takes '" + m.inputName() + "'");
        if (in.datatype == null) throw HttpError.badRequest("input '" + in.name + "' has no datatype; the model takes FP32");
        if (!in.datatype.equals("FP32")) throw HttpError.badRequest("input '" + in.name + "' has datatype " + in.datatype + "; the model takes FP32");
        if (in.shape == null) throw HttpError.badRequest("input '" + in.name + "' has no shape");
        if (in.data == null) throw HttpError.badRequest("input '" + in.name + "' has no data (JSON 'data' or parameters.binary_data_size)");
        if (r.outputs != null) {
            for (String o : r.outputs.keySet()) {
                if (!m.outputNames().contains(o)) throw HttpError.badRequest("unknown output '" + o + "'; model '" + m.name() + "' has " + m.outputNames());
            }
        }
        float[] data = in.data.length == in.count ? in.data : Arrays.copyOf(in.data, in.count);
        BatchResult result = run(m, data, in.shape);
        int[] binLen = new int[1];
        byte[] out = InferCodec.response(m.name(), r.id, result, r.outputs, r.binaryOutputs, binLen);
        if (binLen[0] >= 0) {
            res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
            res.header(InferCodec.HEADER_LENGTH, Integer.toString(binLen[0]));
        } else {
            res.header(HeaderNames.CONTENT_TYPE, JSON);
        }
        res.send(out);
    }

    private void image(ServerRequest req, ServerResponse res, ServedModel m) {
        admit(m);
        Preprocess p = m.preprocess();
        if (p == null) throw HttpError.badRequest("model '" + m.name() + "' input " + Arrays.toString(m.inputShape()) + " is not a fixed-size [N, C, H, W] image");
        int top = 5;
        boolean withOutputs = false;
        try {
            if (req.query().contains("top")) top = Integer.parseInt(req.query().get("top"));
            if (req.query().contains("outputs")) withOutputs = Boolean.parseBoolean(req.query().get("outputs"));
        } catch (NumberFormatException e) {
            throw HttpError.badRequest("query parameter top must be an integer");
        }
        if (top < 0 || top > 1000) throw HttpError.badRequest("query parameter top must be in 0..1000, got " + top);
        byte[] body = readBody(req);
        if (body.length == 0) throw HttpError.badRequest("the request has no body: send a PNG or JPEG image");
        int[] shape = m.inputShape();
        shape[0] = 1;
        float[] x = p.apply(body, shape[1], shape[2], shape[3]);
        BatchResult result = run(m, x, shape);
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = InferCodec.generator(out)) {
            g.writeStartObject();
            g.writeStringField("model_name", m.name());
            g.writeStringField("model_version", "1");
            g.writeStringField("preprocess", p.describe(shape[2], shape[3]));
            float[] y = result.data(0);
            g.writeArrayFieldStart("top");
            boolean[] taken = new boolean[y.length];
            for (int t = 0; t < Math.min(top, y.length); t++) {
                int best = -1;
                for (int i = 0; i < y.length; i++) if (!taken[i] && (best < 0 || y[i] > y[best])) best = i;
                taken[best] = true;
                g.writeStartObject();
                g.writeNumberField("index", best);
                g.writeNumberField("value", y[best]);
                g.writeEndObject();
            }
            g.writeEndArray();
            if (withOutputs) {
                g.writeArrayFieldStart("outputs");
                for (int k = 0; k < result.outputs(); k++) InferCodec.writeTensor(g, result.name(k), result.shape(k), result.data(k), false);
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(out.toByteArray());
    }

    private BatchResult run(ServedModel m, float[] data, int[] shape) {
        CompletableFuture<BatchResult> f;
        try {
            f = m.batcher().submit(data, shape);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest(message(e));
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HttpError.unavailable("unavailable", "interrupted while waiting for the model");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RejectedRequestException rr) {
                String outcome = switch (rr.reason()) {
                    case QUEUE_FULL -> "overloaded";
                    case DEADLINE_EXCEEDED -> "deadline_exceeded";
                    case CLOSED -> "unavailable";
                };
                throw HttpError.unavailable(outcome, rr.getMessage());
            }
            throw new HttpError(500, "error", "inference failed: " + message(c));
        }
    }

    private byte[] readBody(ServerRequest req) {
        long limit = config.maxBodyBytes();
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > limit) {
            throw HttpError.tooLarge("request body of " + declared.getAsLong() + " bytes exceeds the limit of " + limit + " bytes");
        }
        if (!req.content().hasEntity()) return new byte[0];
        try (InputStream in = req.content().inputStream()) {
            byte[] buf = new byte[(int) Math.min(limit + 1, declared.isPresent() ? declared.getAsLong() + 1 : 64 * 1024)];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    if (n > limit) throw HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes");
                    buf = Arrays.copyOf(buf, (int) Math.min(limit + 1, (long) buf.length * 2));
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) break;
                n += r;
                if (n > limit) throw HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes");
            }
            return n == buf.length ? buf : Arrays.copyOf(buf, n);
        } catch (IOException | UncheckedIOException e) {
            throw HttpError.badRequest("could not read the request body: " + message(e));
        }
    }

    private String metadata(ServedModel m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = InferCodec.generator(out)) {
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeArrayFieldStart("versions");
            g.writeString("1");
            g.writeEndArray();
            g.writeStringField("platform", "onnx_tessera");
            g.writeArrayFieldStart("inputs");
            tensorMeta(g, m.inputName(), m.inputShape());
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            for (int k = 0; k < m.outputNames().size(); k++) tensorMeta(g, m.outputNames().get(k), m.outputShape(k));
            g.writeEndArray();
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("max_batch_size", m.batcher().batching() ? config.batcher().maxBatch() : 0);
            g.writeNumberField("max_delay_us", config.batcher().maxDelay().toNanos() / 1000);
            g.writeNumberField("queue_capacity", config.batcher().queueCapacity());
            if (m.preprocess() != null) {
                int[] s = m.inputShape();
                g.writeStringField("image_preprocess", m.preprocess().describe(s[2], s[3]));
            }
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void tensorMeta(JsonGenerator g, String name, int[] shape) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("datatype", "FP32");
        g.writeArrayFieldStart("shape");
        for (int d : shape) g.writeNumber(d);
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void json(ServerResponse res, int status, String body) {
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void sendError(ServerResponse res, int status, String message) {
        if (res.isSent()) return;
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(InferCodec.error(message));
    }

    /**
     * Graceful shutdown: readiness and new inference requests answer 503 from now on, requests already being handled
     * finish (up to {@code grace}), then the listener stops and every model is freed. Idempotent.
     *
     * @return true when every accepted request finished within {@code grace}
     */
    public synchronized boolean shutdown(Duration grace) {
        if (stopped) return true;
        draining = true;
        long end = System.nanoTime() + grace.toNanos();
        boolean clean = true;
        synchronized (drained) {
            while (inFlight.get() > 0) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    clean = false;
                    break;
                }
                try {
                    drained.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    clean = false;
                    break;
                }
            }
        }
        server.stop();
        closeModels();
        stopped = true;
        return clean;
    }

    private void closeModels() {
        for (ServedModel m : modelList) m.close();
        modelList.clear();
    }

    /** {@link #shutdown(Duration)} with 30 seconds of grace. */
    @Override
    public void close() { shutdown(Duration.ofSeconds(30)); }
}
