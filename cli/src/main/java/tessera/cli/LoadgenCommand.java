package tessera.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;

/**
 * {@code tessera loadgen --url URL --model NAME --input X.npy --clients N --seconds S}: N concurrent clients (JDK
 * HttpClient, one virtual thread each) send the same input to a loopback server's Open Inference Protocol infer
 * endpoint for S seconds, then one line: requests, errors, throughput, latency percentiles and the mean batch size
 * the server ran (from its /metrics before and after).
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true,
        description = {"Drive a loopback 'tessera serve' (or any Open Inference Protocol server) with N concurrent clients for S seconds.",
                "Prints one line: loadgen: clients N, requests R, errors E, throughput X req/s, p50 A ms, p90 B ms, p99 C ms, mean batch M"})
public final class LoadgenCommand implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "server base URL, e.g. http://127.0.0.1:8000 (loopback only)") String url;
    @Option(names = "--model", required = true, description = "model name") String model;
    @Option(names = "--input", required = true, description = "input tensor (.npy, float32 or float64), sent as is (its first dimension is the request's batch)") Path input;
    @Option(names = "--clients", defaultValue = "1", description = "concurrent clients (default 1)") int clients;
    @Option(names = "--seconds", defaultValue = "10", description = "how long to send, after the warm-up (default 10)") double seconds;
    @Option(names = "--warmup", defaultValue = "0", description = "seconds of load before measuring, not counted (default 0)") double warmup;
    @Option(names = "--requests", defaultValue = "0", description = "stop after this many measured requests, or at --seconds, whichever comes first (default 0: time only)") long requests;
    @Option(names = "--json", description = "send JSON data instead of the binary tensor extension") boolean json;

    @Override
    public Integer call() {
        int[] code = {1};
        int rc = CliErrors.run("loadgen", () -> code[0] = loadgen());
        return rc != 0 ? rc : code[0];
    }

    private int loadgen() throws Exception {
        if (clients < 1 || clients > 4096) throw new IllegalArgumentException("--clients must be in 1..4096, got " + clients);
        if (!(seconds > 0) || seconds > 3600) throw new IllegalArgumentException("--seconds must be in (0, 3600], got " + seconds);
        if (!(warmup >= 0) || warmup > 600) throw new IllegalArgumentException("--warmup must be in [0, 600], got " + warmup);
        if (requests < 0) throw new IllegalArgumentException("--requests must be >= 0 (0: bounded by --seconds only), got " + requests);
        URI base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        if (!"http".equals(base.getScheme()) || base.getHost() == null) throw new IllegalArgumentException("--url must be http://HOST:PORT, got " + url);
        for (InetAddress a : InetAddress.getAllByName(base.getHost())) {
            if (!a.isLoopbackAddress()) throw new IllegalArgumentException("--url host " + base.getHost() + " is not a loopback address; loadgen only drives servers on this machine");
        }
        float[] x;
        int[] shape;
        try (Tensor raw = Npy.read(input)) {
            shape = raw.shape();
            try (Tensor f = raw.dtype() == DType.F32 ? null : raw.to(DType.F32)) {
                x = (f == null ? raw : f).toFloatArray();
            }
        }
        String inputName = inputName(base);
        byte[] body;
        String headerLength = null;
        if (json) {
            StringBuilder sb = new StringBuilder(x.length * 12).append("{\"inputs\":[{\"name\":\"").append(inputName).append("\",\"datatype\":\"FP32\",\"shape\":")
                    .append(Arrays.toString(shape).replace(" ", "")).append(",\"data\":[");
            for (int i = 0; i < x.length; i++) sb.append(i == 0 ? "" : ",").append(x[i]);
            body = sb.append("]}]}").toString().getBytes(StandardCharsets.UTF_8);
        } else {
            byte[] head = ("{\"inputs\":[{\"name\":\"" + inputName + "\",\"datatype\":\"FP32\",\"shape\":" + Arrays.toString(shape).replace(" ", "")
                    + ",\"parameters\":{\"binary_data_size\":" + x.length * 4 + "}}],\"parameters\":{\"binary_data_output\":true}}").getBytes(StandardCharsets.UTF_8);
            ByteBuffer bb = ByteBuffer.allocate(head.length + x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.put(head).asFloatBuffer().put(x);
            body = bb.array();
            headerLength = Integer.toString(head.length);
        }
        URI infer = URI.create(base + "/v2/models/" + model + "/infer");
        HttpRequest.Builder rb = HttpRequest.newBuilder(infer).timeout(Duration.ofSeconds(120)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", json ? "application/json" : "application/octet-stream");
        if (headerLength != null) rb.header("Inference-Header-Content-Length", headerLength);
        HttpRequest request = rb.build();

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(pool).connectTimeout(Duration.ofSeconds(10)).build()) {
            long t0 = System.nanoTime();
            long measureFrom = t0 + (long) (warmup * 1e9);
            long end = measureFrom + (long) (seconds * 1e9);
            AtomicLong errors = new AtomicLong();
            AtomicLong permits = new AtomicLong(requests > 0 ? requests : Long.MAX_VALUE);
            AtomicReference<String> firstError = new AtomicReference<>();
            long[][] lat = new long[clients][];
            int[] counts = new int[clients];
            double[] before = new double[2];
            Thread[] threads = new Thread[clients];
            Thread scrape = null;
            if (warmup > 0) {
                scrape = Thread.ofVirtual().start(() -> {
                    sleepUntil(measureFrom);
                    double[] b = batchStats(http, base);
                    before[0] = b[0];
                    before[1] = b[1];
                });
            } else {
                double[] b = batchStats(http, base);
                before[0] = b[0];
                before[1] = b[1];
            }
            for (int c = 0; c < clients; c++) {
                int id = c;
                lat[c] = new long[256];
                threads[c] = Thread.ofVirtual().start(() -> {
                    while (true) {
                        long s = System.nanoTime();
                        if (s - end >= 0) return;
                        if (s - measureFrom >= 0 && permits.getAndDecrement() <= 0) return;
                        boolean ok;
                        String err = null;
                        try {
                            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            ok = r.statusCode() == 200;
                            if (!ok) err = r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8);
                        } catch (IOException e) {
                            ok = false;
                            err = e.toString();
                        } catch (InterruptedException e) {
                            return;
                        }
                        long done = System.nanoTime();
                        if (s - measureFrom < 0) continue; // warm-up
                        if (!ok) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, err);
                            continue;
                        }
                        if (counts[id] == lat[id].length) lat[id] = Arrays.copyOf(lat[id], lat[id].length * 2);
                        lat[id][counts[id]++] = done - s;
                    }
                });
            }
            for (Thread t : threads) t.join();
            if (scrape != null) scrape.join();
            double elapsed = (System.nanoTime() - measureFrom) / 1e9;
            double[] after = batchStats(http, base);
            int n = 0;
            for (int c : counts) n += c;
            long[] all = new long[n];
            int at = 0;
            for (int c = 0; c < clients; c++) {
                System.arraycopy(lat[c], 0, all, at, counts[c]);
                at += counts[c];
            }
            Arrays.sort(all);
            double meanBatch = after[1] - before[1] > 0 ? (after[0] - before[0]) / (after[1] - before[1]) : Double.NaN;
            if (firstError.get() != null) System.err.println("tessera loadgen: first error: " + firstError.get().replace('\n', ' '));
            System.out.println(String.format(Locale.ROOT,
                    "loadgen: clients %d, requests %d, errors %d, throughput %.1f req/s, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, mean batch %s",
                    clients, n + errors.get(), errors.get(), n / elapsed, pct(all, 0.50), pct(all, 0.90), pct(all, 0.99),
                    Double.isNaN(meanBatch) ? "n/a" : String.format(Locale.ROOT, "%.2f", meanBatch)));
            return 0;
        }
    }

    private static void sleepUntil(long when) {
        long left;
        while ((left = when - System.nanoTime()) > 0) {
            try {
                Thread.sleep(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Nearest-rank percentile in milliseconds (NaN without samples). */
    static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    /** The model's input name from its metadata. */
    private String inputName(URI base) throws Exception {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpResponse<String> r;
            try {
                r = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/models/" + model)).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot reach " + base + ": " + e);
            }
            if (r.statusCode() != 200) throw new IllegalArgumentException("GET /v2/models/" + model + " answered " + r.statusCode() + " " + r.body());
            var m = java.util.regex.Pattern.compile("\"inputs\"\\s*:\\s*\\[\\s*\\{\\s*\"name\"\\s*:\\s*\"([^\"]+)\"").matcher(r.body());
            if (!m.find()) throw new IllegalArgumentException("model metadata names no input: " + r.body());
            return m.group(1);
        }
    }

    /** {sum, count} of the server's tessera_batch_size histogram for this model, or NaNs. */
    private double[] batchStats(HttpClient http, URI base) {
        double sum = Double.NaN, count = Double.NaN;
        boolean scraped = false;
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                scraped = r.body().contains("tessera_queue_depth"); // a Tessera server: without a batch series it has run no batch yet
                String label = "{model=\"" + model + "\"} ";
                for (String line : r.body().split("\n")) {
                    if (line.startsWith("tessera_batch_size_sum" + label)) sum = Double.parseDouble(line.substring(("tessera_batch_size_sum" + label).length()).trim());
                    if (line.startsWith("tessera_batch_size_count" + label)) count = Double.parseDouble(line.substring(("tessera_batch_size_count" + label).length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // no metrics: the mean batch is reported as n/a
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (Double.isNaN(sum) || Double.isNaN(count)) return scraped ? new double[] {0, 0} : new double[] {Double.NaN, Double.NaN}; // no batch yet
        return new double[] {sum, count};
    }
}
