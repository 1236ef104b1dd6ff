package tessera.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import tessera.onnx.batching.BatchListener;
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
 * <p>Errors are {@code {"error":"one line"}} with 400 (bad request), 404 (unknown model or path), 408 (body not
 * received within the body timeout), 413 (body over the limit), 415 (not an image), 503 (not ready, shutting down,
 * queue full, deadline passed; with {@code Retry-After}) or 500 (the model failed). An error answered before the body
 * was read to its end closes the connection.
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
     * @param bodyTimeout  longest time a request body may take to arrive, counted from the request's start: a body
     *                     still trickling in then gets 408 and its connection is closed; a body that stops arriving
     *                     altogether (a read blocked on a silent client) is cut off, its connection closed, at most
     *                     min(1 s, bodyTimeout) later. Also the longest time an answer may take to be written: a
     *                     client that stops reading it is cut off
     * @param warmup       run every batch size once at start, so that the first requests do not pay for planning
     */
    public record Config(String host, int port, List<ModelSource> models, int threads, BatcherOptions batcher, long maxBodyBytes, Duration bodyTimeout,
                         boolean warmup) {
        public Config {
            if (models == null || models.isEmpty()) throw new IllegalArgumentException("no model to serve: give at least one --model NAME=PATH.onnx");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is not in 0..65535");
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
            if (maxBodyBytes < 1024) throw new IllegalArgumentException("the body limit must be >= 1024 bytes, got " + maxBodyBytes);
            if (maxBodyBytes > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("the body limit must be < 2 GiB, got " + maxBodyBytes);
            if (bodyTimeout == null || bodyTimeout.isNegative() || bodyTimeout.isZero() || bodyTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("the body timeout must be >= 1 ms, got " + bodyTimeout);
            }
            models = List.copyOf(models);
        }

        public static Config of(List<ModelSource> models) {
            return new Config("127.0.0.1", 0, models, 0, BatcherOptions.DEFAULT, 64L << 20, Duration.ofSeconds(30), false);
        }

        public Config withPort(int p) { return new Config(host, p, models, threads, batcher, maxBodyBytes, bodyTimeout, warmup); }

        public Config withHost(String h) { return new Config(h, port, models, threads, batcher, maxBodyBytes, bodyTimeout, warmup); }

        public Config withBatcher(BatcherOptions b) { return new Config(host, port, models, threads, b, maxBodyBytes, bodyTimeout, warmup); }

        public Config withMaxBodyBytes(long m) { return new Config(host, port, models, threads, batcher, m, bodyTimeout, warmup); }

        public Config withBodyTimeout(Duration t) { return new Config(host, port, models, threads, batcher, maxBodyBytes, t, warmup); }

        public Config withThreads(int t) { return new Config(host, port, models, t, batcher, maxBodyBytes, bodyTimeout, warmup); }

        public Config withWarmup(boolean w) { return new Config(host, port, models, threads, batcher, maxBodyBytes, bodyTimeout, w); }
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
    /** Cuts off body reads and answer writes that block past their deadline (see {@link BodyWatch}). */
    private final ScheduledThreadPoolExecutor watchdog = watchdog();
    private volatile boolean draining;
    private boolean stopped;

    private ModelServer(Config config, BatchListener observer) {
        this.config = config;
        this.metrics = new ServeMetrics(modelList, inFlight::get);
        SessionOptions so = SessionOptions.DEFAULT.withThreads(config.threads());
        try {
            for (ModelSource src : config.models()) {
                if (models.containsKey(src.name())) throw new IllegalArgumentException("model name '" + src.name() + "' is given twice");
                String name = src.name();
                ServedModel m = ServedModel.load(name, src.file(), so, config.batcher(), src.preprocess(),
                        (requests, rows, runRows, nanos, failed) -> {
                            metrics.batch(name, rows, nanos);
                            observer.batchCompleted(requests, rows, runRows, nanos, failed);
                        });
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

    /**
     * One thread for every request's alarm. Alarms are cancelled as their read or write ends, almost always: they
     * leave the queue at once instead of waiting out their delay, so a busy server does not pile up 30 s of them
     * (each holding its request's thread).
     */
    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon(true).name("tessera-serve-body-watchdog").unstarted(r));
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /** Loads the models and starts listening; returns once requests are served. */
    public static ModelServer start(Config config) { return new ModelServer(config, BatchListener.NONE); }

    /**
     * As {@link #start(Config)}, and {@code observer} is told of every batch run of every model (after the server's
     * own metrics), on the thread that ran the batch: that model's next batch waits until it returns.
     */
    public static ModelServer start(Config config, BatchListener observer) { return new ModelServer(config, Objects.requireNonNull(observer, "observer")); }

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
                case INFER -> infer(req, res, m, t0);
                case IMAGE -> image(req, res, m, t0);
            }
            if (inference) {
                metrics.requests.labelValues(label, "ok").inc();
                metrics.latency.labelValues(label).observe((System.nanoTime() - t0) / 1e9);
                served.incrementAndGet();
            }
        } catch (HttpError e) {
            if (inference) metrics.requests.labelValues(label, e.outcome).inc();
            sendError(res, e.status, e.getMessage(), e.closeConnection);
            // Helidon would otherwise read on: drain the rest of the body, or parse it as the next request
            if (e.closeConnection) throw new CloseConnectionException("request body not read to its end: " + e.getMessage());
        } catch (RuntimeException e) {
            if (res.isSent() || clientGone(e)) {
                // the response (or part of it) could not be written: the client went away or stopped reading; Helidon
                // closes the connection
                if (inference) metrics.requests.labelValues(label, e instanceof ResponseTimeout ? "response_timeout" : "client_closed").inc();
                throw e;
            }
            if (inference) metrics.requests.labelValues(label, "error").inc();
            sendError(res, 500, "internal error: " + message(e), false);
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

    private void infer(ServerRequest req, ServerResponse res, ServedModel m, long t0) {
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
        byte[] body = readBody(req, t0);
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
        send(res, out);
    }

    private void image(ServerRequest req, ServerResponse res, ServedModel m, long t0) {
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
        byte[] body = readBody(req, t0);
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
        send(res, out.toByteArray());
    }

    /**
     * Sends an inference answer. A client that stops reading it (keeping the connection open, so the write blocks once
     * the socket buffers are full) is cut off after the body timeout: the connection is closed, the handler ends.
     */
    private void send(ServerResponse res, byte[] body) {
        BodyWatch watch = new BodyWatch(Thread.currentThread());
        ScheduledFuture<?> alarm = watchdog.schedule(watch, config.bodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        try {
            res.send(body);
        } catch (RuntimeException e) {
            if (watch.finish()) throw new ResponseTimeout(body.length, e);
            throw e;
        } finally {
            watch.finish();
            alarm.cancel(false);
        }
    }

    /** An answer not taken by its client within the body timeout; closes the connection (Helidon's contract). */
    private final class ResponseTimeout extends CloseConnectionException {
        ResponseTimeout(int bytes, Throwable cause) {
            super("the client did not read its " + bytes + "-byte answer within " + seconds(config.bodyTimeout()), cause);
        }
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

    /** First buffer for a body: it grows as bytes arrive, so a declared Content-Length alone allocates nothing large. */
    private static final int FIRST_BODY_BUFFER = 64 * 1024;

    /**
     * Reads the request body, at most {@code maxBodyBytes}, within {@code bodyTimeout} of the request's start. Memory
     * follows the bytes that actually arrived: a client declaring a large Content-Length and then trickling (or
     * sending nothing) holds at most {@link #FIRST_BODY_BUFFER} bytes until more arrive. Every failure while reading
     * answers with {@code Connection: close} and then closes the connection, so the rest of a body is never drained or
     * parsed as a next request.
     */
    private byte[] readBody(ServerRequest req, long t0) {
        long limit = config.maxBodyBytes();
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > limit) {
            throw HttpError.tooLarge("request body of " + declared.getAsLong() + " bytes exceeds the limit of " + limit + " bytes").closing();
        }
        if (!req.content().hasEntity()) return new byte[0];
        long want = declared.isPresent() ? declared.getAsLong() : -1;
        long deadline = t0 + config.bodyTimeout().toNanos();
        InputStream in = req.content().inputStream();
        byte[] buf = new byte[(int) Math.min(FIRST_BODY_BUFFER, want >= 0 ? want + 1 : limit + 1)];
        int n = 0;
        BodyWatch watch = new BodyWatch(Thread.currentThread());
        long grace = Math.min(TimeUnit.SECONDS.toNanos(1), config.bodyTimeout().toNanos());
        ScheduledFuture<?> alarm = watchdog.schedule(watch, deadline + grace - System.nanoTime(), TimeUnit.NANOSECONDS);
        try {
            while (n != want) {
                if (System.nanoTime() - deadline > 0) {
                    throw HttpError.bodyTimeout("the request body did not arrive within " + seconds(config.bodyTimeout()) + ": got " + n
                            + (want >= 0 ? " of " + want : "") + " bytes");
                }
                if (n == buf.length) {
                    long cap = want >= 0 ? want + 1 : limit + 1;
                    buf = Arrays.copyOf(buf, (int) Math.min(cap, (long) buf.length * 2));
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) break;
                n += r;
                if (n > limit) throw HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes").closing();
            }
            if (want >= 0 && n < want) throw HttpError.clientClosed("the request body ended after " + n + " of " + want + " bytes");
            if (n == want) in.close(); // at the end of the entity: lets Helidon see it consumed
        } catch (HttpError e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            if (watch.finish()) {
                throw HttpError.bodyTimeout("the request body stalled: nothing arrived for the last " + seconds(Duration.ofNanos(grace))
                        + " of the " + seconds(config.bodyTimeout()) + " it may take; cut off after " + n + (want >= 0 ? " of " + want : "") + " bytes");
            }
            throw bodyFailure(e, n, want);
        } finally {
            watch.finish();
            alarm.cancel(false);
        }
        return n == buf.length ? buf : Arrays.copyOf(buf, n);
    }

    /**
     * The alarm of one body read or answer write: fired by the watchdog when it is still blocked past its deadline, it
     * interrupts the (virtual) thread, which closes the connection and ends the read or write with an exception
     * (Helidon's sockets have no timeout of their own that ends a read blocked on a silent client, or a write blocked
     * on one that stopped reading).
     */
    private static final class BodyWatch implements Runnable {
        private final Thread reader;
        private boolean reading = true;
        private boolean fired;

        BodyWatch(Thread reader) { this.reader = reader; }

        @Override
        public synchronized void run() {
            if (!reading) return;
            fired = true;
            reader.interrupt();
        }

        /** Ends the watch (idempotent); returns whether it fired, and clears the interrupt it caused. */
        synchronized boolean finish() {
            reading = false;
            if (fired) Thread.interrupted();
            return fired;
        }
    }

    /** What went wrong while a body was read (other than a stall): the client went away, or the framing is malformed. */
    private static HttpError bodyFailure(Exception e, int got, long want) {
        String progress = "after " + got + (want >= 0 ? " of " + want : "") + " bytes";
        if (clientGone(e)) return HttpError.clientClosed("the client closed the connection " + progress + " of the request body");
        return HttpError.badRequest("malformed request body " + progress + ": " + message(e)).closing();
    }

    /** Whether {@code e} means the connection is gone (reset, closed, ended early) rather than a bug or bad input. */
    private static boolean clientGone(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof IOException || c instanceof CloseConnectionException || c instanceof DataReader.InsufficientDataAvailableException) return true;
        }
        return false;
    }

    private static String seconds(Duration d) { return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms"; }

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

    private static void sendError(ServerResponse res, int status, String message) { sendError(res, status, message, false); }

    /**
     * {@code {"error":"…"}} with {@code status}; 503s say {@code Retry-After: 1}; {@code close} adds
     * {@code Connection: close} (the caller then closes the connection instead of letting Helidon drain an unread body).
     */
    private static void sendError(ServerResponse res, int status, String message, boolean close) {
        if (res.isSent()) return;
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        if (status == 503) res.header(HeaderNames.RETRY_AFTER, "1");
        if (close) res.header(HeaderValues.CONNECTION_CLOSE);
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
        watchdog.shutdownNow();
        for (ServedModel m : modelList) m.close();
        modelList.clear();
    }

    /** {@link #shutdown(Duration)} with 30 seconds of grace. */
    @Override
    public void close() { shutdown(Duration.ofSeconds(30)); }
}
