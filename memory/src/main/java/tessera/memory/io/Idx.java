package tessera.memory.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * The IDX format of MNIST (LeCun): a big-endian magic {@code 00 00 08 NN} (element type 0x08 = unsigned byte,
 * NN dimensions), NN big-endian int32 sizes, then the bytes in C order. Files may be gzip-compressed (detected by
 * the gzip magic {@code 1f 8b}). Images come out as uint8 {@code [N, rows, cols]}, labels as uint8 {@code [N]}.
 *
 * <p>Sizes are checked before anything of the claimed size is allocated: an uncompressed file must be exactly as
 * long as its header says; compressed data is inflated in bounded chunks up to the declared size (at most
 * {@link #MAX_DATA_BYTES}) and must end there. Violations raise {@link TensorFormatException}.
 */
public final class Idx {
    /** Hard cap on the data size an IDX header may declare (2 GiB; full MNIST is 47 MB). */
    public static final long MAX_DATA_BYTES = 1L << 31;
    /** Largest number of dimensions accepted. */
    public static final int MAX_RANK = 16;

    private static final int UNSIGNED_BYTE = 0x08;

    private Idx() {}

    /** Reads an IDX file (raw or gzip) into a self-owned uint8 tensor. */
    public static Tensor read(Path file) throws IOException { return read(file, null); }

    /** Reads an IDX file (raw or gzip) into {@code arena} (self-owned when null). */
    public static Tensor read(Path file, TensorArena arena) throws IOException {
        long size = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) return readGzip(raw, arena);
            return readRaw(raw, size, arena, file.getFileName().toString());
        }
    }

    /** Reads IDX data (raw or gzip) from {@code in} into a self-owned tensor; the data must end the stream. */
    public static Tensor read(InputStream in) throws IOException { return read(in, null); }

    /** Reads IDX data (raw or gzip) from {@code in} into {@code arena} (self-owned when null); the data must end the stream. */
    public static Tensor read(InputStream in, TensorArena arena) throws IOException {
        InputStream b = in.markSupported() ? in : new BufferedInputStream(in);
        b.mark(2);
        int b0 = b.read(), b1 = b.read();
        b.reset();
        if (b0 == 0x1f && b1 == 0x8b) return readGzip(b, arena);
        return readRaw(b, -1, arena, "stream");
    }

    /** Reads an images file: rank 3 {@code [N, rows, cols]} uint8, or a {@link TensorFormatException}. */
    public static Tensor readImages(Path file, TensorArena arena) throws IOException {
        return requireRank(read(file, arena), 3, file, "images [N, rows, cols]");
    }

    /** Reads a labels file: rank 1 {@code [N]} uint8, or a {@link TensorFormatException}. */
    public static Tensor readLabels(Path file, TensorArena arena) throws IOException {
        return requireRank(read(file, arena), 1, file, "labels [N]");
    }

    private static Tensor requireRank(Tensor t, int rank, Path file, String what) {
        if (t.rank() != rank) {
            int[] shape = t.shape();
            t.close();
            throw new TensorFormatException("IDX file " + file.getFileName() + " has shape " + Shapes.str(shape)
                    + ", expected " + what);
        }
        return t;
    }

    private static Tensor readGzip(InputStream compressed, TensorArena arena) throws IOException {
        try {
            return readRaw(new GZIPInputStream(compressed, 1 << 16), -1, arena, "gzip data");
        } catch (ZipException | EOFException e) {
            throw new TensorFormatException("corrupt gzip-compressed IDX data: " + e.getMessage(), e);
        }
    }

    /** {@code size} is the total byte count when known (uncompressed file), else -1 (then the data must end the stream). */
    private static Tensor readRaw(InputStream in, long size, TensorArena arena, String source) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new TensorFormatException("IDX " + source + " is too short: " + magic.length + " bytes, the magic number needs 4");
        }
        int type = magic[2] & 0xff, rank = magic[3] & 0xff;
        if (magic[0] != 0 || magic[1] != 0) {
            throw new TensorFormatException(String.format("bad IDX magic number 0x%02x%02x%02x%02x: expected 0x0000TTNN "
                    + "(TT = element type, NN = dimensions), e.g. 0x00000803 for MNIST images", magic[0], magic[1], magic[2], magic[3]));
        }
        if (type != UNSIGNED_BYTE) {
            throw new TensorFormatException(String.format("IDX element type 0x%02x is not supported: only 0x08 (unsigned byte)", type));
        }
        if (rank < 1 || rank > MAX_RANK) {
            throw new TensorFormatException("IDX header declares " + rank + " dimensions, expected 1.." + MAX_RANK);
        }
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new TensorFormatException("IDX " + source + " ends inside its header: " + rank + " dimensions need " + 4 * rank
                    + " bytes after the magic, found " + dimBytes.length);
        }
        int[] shape = new int[rank];
        for (int d = 0; d < rank; d++) {
            long v = (dimBytes[4 * d] & 0xffL) << 24 | (dimBytes[4 * d + 1] & 0xff) << 16 | (dimBytes[4 * d + 2] & 0xff) << 8
                    | (dimBytes[4 * d + 3] & 0xff);
            if (v > Integer.MAX_VALUE) {
                throw new TensorFormatException("IDX header: dimension " + d + " is " + v + ", larger than " + Integer.MAX_VALUE);
            }
            shape[d] = (int) v;
        }
        long need;
        try {
            need = Shapes.numel(shape);
        } catch (IllegalArgumentException e) {
            throw new TensorFormatException("IDX header shape " + Shapes.str(shape) + ": " + e.getMessage(), e);
        }
        if (need > MAX_DATA_BYTES) {
            throw new TensorFormatException("IDX header shape " + Shapes.str(shape) + " declares " + need
                    + " bytes of data, more than the limit of " + MAX_DATA_BYTES);
        }
        long headerBytes = 4 + 4L * rank;
        if (size >= 0) {
            long have = size - headerBytes;
            if (have != need) {
                throw new TensorFormatException("IDX header declares shape " + Shapes.str(shape) + " = " + need + " data bytes, but "
                        + source + " holds " + have + " bytes after its " + headerBytes + "-byte header"
                        + (have < need ? " (truncated)" : " (trailing bytes)"));
            }
            Tensor t = allocate(arena, shape);
            long got = StreamData.readInto(in, t.segment(), need);
            if (got != need) {
                t.close();
                throw new TensorFormatException("IDX data ended after " + got + " of " + need + " bytes (file changed while reading?)");
            }
            return t;
        }
        try (StreamData data = StreamData.read(in, need)) {
            if (data.size() != need) {
                throw new TensorFormatException("IDX header declares shape " + Shapes.str(shape) + " = " + need + " data bytes, but "
                        + source + " ended after " + data.size() + " bytes (truncated)");
            }
            if (in.read() >= 0) {
                throw new TensorFormatException("IDX header declares shape " + Shapes.str(shape) + " = " + need + " data bytes, but "
                        + source + " continues after them (trailing bytes)");
            }
            Tensor t = allocate(arena, shape);
            data.copyTo(t.segment());
            return t;
        }
    }

    private static Tensor allocate(TensorArena arena, int[] shape) {
        return arena == null ? Tensor.zeros(DType.U8, shape) : arena.allocate(DType.U8, shape);
    }

    // ---------------------------------------------------------------- writing

    /** Writes a uint8 tensor (any strides, rank 1..16) as IDX, gzip-compressed if {@code gzip}. */
    public static void write(Tensor t, Path file, boolean gzip) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            write(t, out, gzip);
        }
    }

    /** Writes a uint8 tensor as IDX to {@code out} (not closed), gzip-compressed if {@code gzip}. */
    public static void write(Tensor t, OutputStream out, boolean gzip) throws IOException {
        if (t.dtype() != DType.U8) throw new IllegalArgumentException("IDX write: tensor dtype " + t.dtype() + " is not U8");
        if (t.rank() < 1 || t.rank() > MAX_RANK) {
            throw new IllegalArgumentException("IDX write: rank " + t.rank() + " of shape " + Shapes.str(t.shape()) + " is outside 1.." + MAX_RANK);
        }
        OutputStream o = gzip ? new GZIPOutputStream(nonClosing(out), 1 << 16) : out;
        byte[] header = new byte[4 + 4 * t.rank()];
        header[2] = UNSIGNED_BYTE;
        header[3] = (byte) t.rank();
        for (int d = 0; d < t.rank(); d++) {
            int v = t.dim(d);
            header[4 + 4 * d] = (byte) (v >>> 24);
            header[5 + 4 * d] = (byte) (v >>> 16);
            header[6 + 4 * d] = (byte) (v >>> 8);
            header[7 + 4 * d] = (byte) v;
        }
        o.write(header);
        Tensor c = t.contiguous();
        try {
            MemorySegment seg = c.segment();
            long n = c.numel();
            byte[] buf = new byte[(int) Math.min(Math.max(n, 1), 1 << 16)];
            for (long at = 0; at < n; ) {
                int k = (int) Math.min(buf.length, n - at);
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, c.byteOffset() + at, buf, 0, k);
                o.write(buf, 0, k);
                at += k;
            }
        } finally {
            if (c != t) c.close();
        }
        if (gzip) o.close(); // finishes the gzip stream; 'out' stays open
        out.flush();
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
            @Override public void close() throws IOException { out.flush(); }
        };
    }
}
