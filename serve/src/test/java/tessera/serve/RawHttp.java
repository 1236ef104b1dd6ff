package tessera.serve;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A client on a bare loopback socket, so a test can do what {@link java.net.http.HttpClient} never does: stop in the
 * middle of a request, trickle bytes, lie about lengths, send malformed HTTP, reset the connection. Every read has a
 * socket timeout as a hang guard.
 */
final class RawHttp implements AutoCloseable {
    final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    RawHttp(int port) throws IOException { this(port, 0); }

    /** {@code receiveBuffer} > 0 sets the socket's receive buffer (before connecting, so the TCP window follows it). */
    RawHttp(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** A parsed response. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        String text() { return new String(body, StandardCharsets.UTF_8); }

        String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }
    }

    /** The head of a request (request line and headers, ending with the blank line). */
    static byte[] head(String method, String path, String... headers) {
        StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < headers.length; i += 2) sb.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        return sb.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** A whole POST with a Content-Length and {@code Connection: close}. */
    static byte[] post(String path, byte[] body, String... headers) {
        String[] all = new String[headers.length + 4];
        System.arraycopy(headers, 0, all, 0, headers.length);
        all[headers.length] = "Content-Length";
        all[headers.length + 1] = Integer.toString(body.length);
        all[headers.length + 2] = "Connection";
        all[headers.length + 3] = "close";
        return concat(head("POST", path, all), body);
    }

    static byte[] get(String path) { return head("GET", path, "Connection", "close"); }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    RawHttp send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    RawHttp send(byte[] bytes, int from, int to) throws IOException {
        out.write(bytes, from, to - from);
        out.flush();
        return this;
    }

    RawHttp send(String ascii) throws IOException { return send(ascii.getBytes(StandardCharsets.US_ASCII)); }

    /** Reads the first {@code n} bytes of the response (status line included) and nothing more. */
    byte[] readPrefix(int n) throws IOException { return in.readNBytes(n); }

    /** Reads one response: status line, headers, then a Content-Length, chunked or read-to-EOF body. */
    Response read() throws IOException {
        String status = line();
        if (!status.startsWith("HTTP/1.1 ")) throw new IOException("not an HTTP/1.1 status line: '" + status + "'");
        int code = Integer.parseInt(status.substring(9, 12));
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        byte[] body;
        if (headers.containsKey("content-length")) {
            int n = Integer.parseInt(headers.get("content-length"));
            body = in.readNBytes(n);
            if (body.length != n) throw new EOFException("body ends after " + body.length + " of " + n + " bytes");
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) { } // trailers
                    break;
                }
                b.write(in.readNBytes(n));
                line();
            }
            body = b.toByteArray();
        } else {
            body = in.readAllBytes();
        }
        return new Response(code, headers, body);
    }

    /** True when the server closed the connection (EOF or reset) rather than leaving it open. */
    boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        while (true) {
            int c = in.read();
            if (c < 0) throw new EOFException("connection closed in the middle of a line: '" + b.toString(StandardCharsets.US_ASCII) + "'");
            if (c == '\n') break;
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** Closes with a TCP reset instead of an orderly FIN (SO_LINGER 0): the harshest way a client can vanish. */
    void reset() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Sends {@code request} on a new connection and reads the response. */
    static Response exchange(int port, byte[] request) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.send(request).read();
        }
    }
}
