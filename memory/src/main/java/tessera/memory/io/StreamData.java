package tessera.memory.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading a declared number of bytes without trusting the declaration: data is pulled into off-heap chunks of at
 * most {@link #CHUNK} bytes, so memory grows with what the stream actually delivers, never with what a header
 * claims (and never on the Java heap). Close to free the chunks.
 */
final class StreamData implements AutoCloseable {
    static final int CHUNK = 1 << 20;

    private final Arena arena = Arena.ofConfined();
    private final List<MemorySegment> chunks = new ArrayList<>();
    private long size;

    private StreamData() {}

    /** Reads up to {@code expected} bytes; {@link #size()} tells how many arrived (fewer means the stream ended). */
    static StreamData read(InputStream in, long expected) throws IOException {
        StreamData d = new StreamData();
        try {
            byte[] buf = new byte[(int) Math.min(Math.max(expected, 1), 1 << 16)];
            MemorySegment chunk = null;
            long used = 0;
            while (d.size < expected) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, expected - d.size));
                if (n < 0) break;
                for (int at = 0; at < n; ) {
                    if (chunk == null || used == chunk.byteSize()) {
                        chunk = d.arena.allocate(Math.min(CHUNK, expected - d.size));
                        d.chunks.add(chunk);
                        used = 0;
                    }
                    int k = (int) Math.min(n - at, chunk.byteSize() - used);
                    MemorySegment.copy(buf, at, chunk, ValueLayout.JAVA_BYTE, used, k);
                    used += k;
                    at += k;
                    d.size += k;
                }
            }
            return d;
        } catch (IOException | RuntimeException | Error e) {
            d.close();
            throw e;
        }
    }

    long size() { return size; }

    /** Copies everything read into {@code dst} starting at byte 0. */
    void copyTo(MemorySegment dst) {
        long at = 0;
        for (MemorySegment c : chunks) {
            long n = Math.min(c.byteSize(), size - at);
            MemorySegment.copy(c, 0, dst, at, n);
            at += n;
        }
    }

    @Override
    public void close() { arena.close(); }

    /** Reads exactly {@code bytes} bytes from {@code in} into {@code dst}; returns how many arrived before the end. */
    static long readInto(InputStream in, MemorySegment dst, long bytes) throws IOException {
        byte[] buf = new byte[(int) Math.min(Math.max(bytes, 1), 1 << 16)];
        long at = 0;
        while (at < bytes) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, bytes - at));
            if (n < 0) break;
            MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, at, n);
            at += n;
        }
        return at;
    }
}
