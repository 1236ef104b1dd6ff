package tessera.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics (Prometheus Java client 1.x, text exposition format 0.0.4). Label values are model
 * names the server was started with, or {@code _unknown} for requests naming another model, so client input cannot
 * grow the number of series.
 */
final class ServeMetrics {
    static final String UNKNOWN_MODEL = "_unknown";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    final Counter requests;
    final Histogram latency;
    final Histogram batchSize;
    final Histogram batchRun;

    ServeMetrics(Collection<ServedModel> models, IntSupplier inFlight) { // models: a live list, filled as they load
        requests = Counter.builder().name("tessera_requests_total")
                .help("Inference requests by model and outcome (ok, bad_request, not_found, too_large, body_timeout, client_closed, response_timeout, overloaded, deadline_exceeded, unavailable, error)")
                .labelNames("model", "outcome").register(registry);
        latency = Histogram.builder().name("tessera_request_duration_seconds")
                .help("Latency of successful inference requests, from the request's arrival to its response body (seconds)")
                .labelNames("model").classicOnly()
                .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30)
                .register(registry);
        batchSize = Histogram.builder().name("tessera_batch_size")
                .help("Rows (images) per batched model run, before padding to the bucket size")
                .labelNames("model").classicOnly().classicUpperBounds(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256)
                .register(registry);
        batchRun = Histogram.builder().name("tessera_batch_run_seconds")
                .help("Wall time of one batched model run (seconds)")
                .labelNames("model").classicOnly()
                .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4)
                .register(registry);
        GaugeWithCallback.builder().name("tessera_queue_depth").help("Requests waiting for a batch, by model")
                .labelNames("model").callback(cb -> {
                    for (ServedModel m : models) cb.call(m.queueDepth(), m.name());
                }).register(registry);
        GaugeWithCallback.builder().name("tessera_inflight_requests").help("Inference requests being handled")
                .callback(cb -> cb.call(inFlight.getAsInt())).register(registry);
    }

    void batch(String model, int rows, long runNanos) {
        batchSize.labelValues(model).observe(rows);
        batchRun.labelValues(model).observe(runNanos / 1e9);
    }

    String contentType() { return writer.getContentType(); }

    byte[] scrape() {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
            writer.write(out, registry.scrape());
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
