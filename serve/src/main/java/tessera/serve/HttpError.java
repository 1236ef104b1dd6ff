package tessera.serve;

/** A request that ends with an HTTP error status and a one-line reason, sent as {@code {"error":"…"}}. */
final class HttpError extends RuntimeException {
    final int status;
    final String outcome;
    /** The request body was not read to its end: answer with {@code Connection: close} instead of draining it. */
    final boolean closeConnection;

    HttpError(int status, String outcome, String message) { this(status, outcome, message, false); }

    private HttpError(int status, String outcome, String message, boolean closeConnection) {
        super(message, null, false, false);
        this.status = status;
        this.outcome = outcome;
        this.closeConnection = closeConnection;
    }

    /** The same error, answered with {@code Connection: close} (the rest of the body is not read). */
    HttpError closing() { return new HttpError(status, outcome, getMessage(), true); }

    static HttpError badRequest(String message) { return new HttpError(400, "bad_request", message); }

    static HttpError notFound(String message) { return new HttpError(404, "not_found", message); }

    static HttpError tooLarge(String message) { return new HttpError(413, "too_large", message); }

    static HttpError unsupportedMedia(String message) { return new HttpError(415, "bad_request", message); }

    static HttpError unavailable(String outcome, String message) { return new HttpError(503, outcome, message); }

    /** The body did not arrive within the server's body timeout (slow or stalled client). */
    static HttpError bodyTimeout(String message) { return new HttpError(408, "body_timeout", message, true); }

    /** The client went away before its request was read or its response written; nobody reads this answer. */
    static HttpError clientClosed(String message) { return new HttpError(400, "client_closed", message, true); }
}
