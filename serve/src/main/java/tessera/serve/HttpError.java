package tessera.serve;

/** A request that ends with an HTTP error status and a one-line reason, sent as {@code {"error":"…"}}. */
final class HttpError extends RuntimeException {
    final int status;
    final String outcome;

    HttpError(int status, String outcome, String message) {
        super(message, null, false, false);
        this.status = status;
        this.outcome = outcome;
    }

    static HttpError badRequest(String message) { return new HttpError(400, "bad_request", message); }

    static HttpError notFound(String message) { return new HttpError(404, "not_found", message); }

    static HttpError tooLarge(String message) { return new HttpError(413, "too_large", message); }

    static HttpError unsupportedMedia(String message) { return new HttpError(415, "bad_request", message); }

    static HttpError unavailable(String outcome, String message) { return new HttpError(503, outcome, message); }
}
