package tessera.memory.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0), C order, little-endian, dtypes float32 ({@code <f4}),
 * float64 ({@code <f8}), int32 ({@code <i4}), int64 ({@code <i8}) and uint8 ({@code |u1}).
 *
 * <p>Reading checks the header against the data before allocating anything of the claimed size: from a
 * {@link Path} the claimed byte count must equal the file's remaining length; from a stream the data is pulled in
 * bounded chunks. Fortran-order arrays, other dtypes and malformed headers raise {@link TensorFormatException}.
 * Writing uses version 1.0 (2.0 when the header exceeds 65535 bytes), header padded to a multiple of 64 bytes.
 */
public final class Npy {
    /** Largest header accepted, in bytes (NumPy's own default limit is 10000). */
    public static final int MAX_HEADER_BYTES = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private Npy() {}

    /** The header fields of an .npy file. */
    public record Header(int major, int minor, DType dtype, int[] shape, long dataOffset) {
        /** Bytes of array data the header declares. */
        public long dataBytes() { return Shapes.bytes(Shapes.numel(shape), dtype); }
    }

    // ---------------------------------------------------------------- reading

    /** Reads {@code file} into a tensor that owns its memory (free with {@link Tensor#close()}). */
    public static Tensor read(Path file) throws IOException { return read(file, null); }

    /** Reads {@code file} into a tensor allocated in {@code arena} (or self-owned when {@code arena} is null). */
    public static Tensor read(Path file, TensorArena arena) throws IOException {
        long fileSize = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Header h = readHeader(in, fileSize);
            long need = h.dataBytes();
            long have = fileSize - h.dataOffset();
            if (have != need) {
                throw new TensorFormatException(".npy header declares shape " + Shapes.str(h.shape()) + " of " + h.dtype()
                        + " = " + need + " data bytes, but the file " + file.getFileName() + " holds " + have
                        + " bytes after its " + h.dataOffset() + "-byte header" + (have < need ? " (truncated)" : " (trailing bytes)"));
            }
            Tensor t = allocate(arena, h);
            long got = StreamData.readInto(in, t.segment(), need);
            if (got != need) {
                t.close();
                throw new TensorFormatException(".npy data ended after " + got + " of " + need + " bytes (file changed while reading?)");
            }
            return t;
        }
    }

    /** Reads one array from {@code in} (left positioned after it) into a self-owned tensor. */
    public static Tensor read(InputStream in) throws IOException { return read(in, null); }

    /** Reads one array from {@code in} (left positioned after it) into {@code arena} (or self-owned when null). */
    public static Tensor read(InputStream in, TensorArena arena) throws IOException {
        Header h = readHeader(in, -1);
        long need = h.dataBytes();
        try (StreamData data = StreamData.read(in, need)) {
            if (data.size() != need) {
                throw new TensorFormatException(".npy header declares shape " + Shapes.str(h.shape()) + " of " + h.dtype() + " = "
                        + need + " data bytes, but the stream ended after " + data.size() + " bytes (truncated)");
            }
            Tensor t = allocate(arena, h);
            data.copyTo(t.segment());
            return t;
        }
    }

    private static Tensor allocate(TensorArena arena, Header h) {
        return arena == null ? Tensor.zeros(h.dtype(), h.shape()) : arena.allocate(h.dtype(), h.shape());
    }

    /**
     * Reads and validates the preamble and header dictionary. {@code fileSize} (or -1 if unknown) bounds the header
     * length before it is read.
     */
    public static Header readHeader(InputStream in, long fileSize) throws IOException {
        byte[] pre = in.readNBytes(10);
        if (pre.length < 8) {
            throw new TensorFormatException(".npy file is too short: " + pre.length + " bytes, the preamble alone needs at least 10");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre[i] != MAGIC[i]) {
                throw new TensorFormatException("not an .npy file: magic bytes are " + hex(pre, 6) + ", expected 93 4e 55 4d 50 59 (\\x93NUMPY)");
            }
        }
        int major = pre[6] & 0xff, minor = pre[7] & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw new TensorFormatException("unsupported .npy format version " + major + "." + minor + ": expected 1.0, 2.0 or 3.0");
        }
        long headerLen;
        int preamble;
        if (major == 1) {
            if (pre.length < 10) throw new TensorFormatException(".npy file is too short: " + pre.length + " bytes, the version 1.0 preamble needs 10");
            headerLen = (pre[8] & 0xff) | (pre[9] & 0xff) << 8;
            preamble = 10;
        } else {
            byte[] more = in.readNBytes(2);
            if (pre.length < 10 || more.length < 2) {
                throw new TensorFormatException(".npy file is too short: " + (pre.length + more.length) + " bytes, the version "
                        + major + ".0 preamble needs 12");
            }
            headerLen = (pre[8] & 0xffL) | (pre[9] & 0xffL) << 8 | (more[0] & 0xffL) << 16 | (more[1] & 0xffL) << 24;
            preamble = 12;
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new TensorFormatException(".npy header length " + headerLen + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (fileSize >= 0 && preamble + headerLen > fileSize) {
            throw new TensorFormatException(".npy header length " + headerLen + " runs past the end of the " + fileSize + "-byte file");
        }
        byte[] hb = in.readNBytes((int) headerLen);
        if (hb.length < headerLen) {
            throw new TensorFormatException(".npy header declares " + headerLen + " bytes but only " + hb.length + " follow (truncated)");
        }
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        HeaderParser p = new HeaderParser(text);
        p.parse();
        DType dtype;
        try {
            dtype = DType.fromNpyDescr(p.descr);
        } catch (IllegalArgumentException e) {
            throw new TensorFormatException(e.getMessage(), e);
        }
        if (p.fortran) {
            throw new TensorFormatException(".npy array of shape " + Shapes.str(p.shape) + " is stored in Fortran (column-major) order,"
                    + " which is not supported: save it with np.ascontiguousarray(a) (C order)");
        }
        try {
            Shapes.bytes(Shapes.numel(p.shape), dtype);
        } catch (IllegalArgumentException e) {
            throw new TensorFormatException(".npy header shape " + Shapes.str(p.shape) + " of " + dtype + ": " + e.getMessage(), e);
        }
        return new Header(major, minor, dtype, p.shape, preamble + headerLen);
    }

    private static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(n, b.length); i++) s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
        return s.toString();
    }

    /** Parser for the Python dict literal of the header: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */
    private static final class HeaderParser {
        private final String s;
        private int i;
        String descr;
        Boolean fortranValue;
        boolean fortran;
        int[] shape;

        HeaderParser(String s) { this.s = s; }

        void parse() {
            ws();
            expect('{');
            ws();
            while (peek() != '}') {
                String key = string();
                ws();
                expect(':');
                ws();
                switch (key) {
                    case "descr" -> { if (descr != null) dup(key); descr = string(); }
                    case "fortran_order" -> { if (fortranValue != null) dup(key); fortranValue = bool(); }
                    case "shape" -> { if (shape != null) dup(key); shape = tuple(); }
                    default -> throw fail("unexpected key '" + key + "' (expected descr, fortran_order, shape)");
                }
                ws();
                if (peek() == ',') { i++; ws(); } else if (peek() != '}') throw fail("expected ',' or '}'");
            }
            i++;
            for (; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\0') throw fail("unexpected text after the dictionary");
            }
            if (descr == null || fortranValue == null || shape == null) {
                throw fail("missing key(s): the header needs 'descr', 'fortran_order' and 'shape'");
            }
            fortran = fortranValue;
        }

        private void dup(String key) { throw fail("key '" + key + "' appears twice"); }

        private char peek() {
            if (i >= s.length()) throw fail("header ends in the middle of the dictionary");
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) throw fail("expected '" + c + "'");
            i++;
        }

        private void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        private String string() {
            char q = peek();
            if (q != '\'' && q != '"') throw fail("expected a quoted string");
            int end = s.indexOf(q, i + 1);
            if (end < 0) throw fail("unterminated string");
            String v = s.substring(i + 1, end);
            if (v.indexOf('\\') >= 0) throw fail("escape sequences are not supported in strings");
            i = end + 1;
            return v;
        }

        private boolean bool() {
            if (s.startsWith("True", i)) { i += 4; return true; }
            if (s.startsWith("False", i)) { i += 5; return false; }
            throw fail("expected True or False for 'fortran_order'");
        }

        private int[] tuple() {
            expect('(');
            List<Integer> dims = new ArrayList<>();
            ws();
            while (peek() != ')') {
                int start = i;
                while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
                if (i == start) throw fail("expected a non-negative integer dimension in 'shape'");
                String digits = s.substring(start, i);
                if (i < s.length() && s.charAt(i) == 'L') i++; // Python 2 long suffix
                long v = digits.length() > 12 ? Long.MAX_VALUE : Long.parseLong(digits);
                if (v > Integer.MAX_VALUE) {
                    throw fail("dimension " + dims.size() + " of 'shape' is " + digits + ", larger than " + Integer.MAX_VALUE);
                }
                dims.add((int) v);
                ws();
                if (peek() == ',') { i++; ws(); } else if (peek() != ')') throw fail("expected ',' or ')' in 'shape'");
                if (dims.size() > 64) throw fail("'shape' has more than 64 dimensions");
            }
            i++;
            int[] out = new int[dims.size()];
            for (int k = 0; k < out.length; k++) out[k] = dims.get(k);
            return out;
        }

        private TensorFormatException fail(String what) {
            String shown = s.length() > 200 ? s.substring(0, 200) + "..." : s;
            return new TensorFormatException("malformed .npy header at character " + i + ": " + what + "; header: "
                    + shown.replace("\n", "\\n"));
        }
    }

    // ---------------------------------------------------------------- writing

    /** Writes {@code t} (any strides; stored in C order) to {@code file}, replacing it. */
    public static void write(Tensor t, Path file) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            write(t, out);
        }
    }

    /** Writes {@code t} (any strides; stored in C order) to {@code out}; does not close it. */
    public static void write(Tensor t, OutputStream out) throws IOException {
        if (t.dtype().npyDescr() == null) {
            throw new IllegalArgumentException("a " + t.dtype() + " tensor cannot be written as .npy: NumPy has no such type (convert it first, e.g. to F32)");
        }
        out.write(headerBytes(t.dtype(), t.shape()));
        Tensor c = t.contiguous();
        try {
            long bytes = Shapes.bytes(c.numel(), c.dtype());
            MemorySegment seg = c.segment();
            long base = c.byteOffset();
            byte[] buf = new byte[(int) Math.min(Math.max(bytes, 1), 1 << 16)];
            for (long at = 0; at < bytes; ) {
                int n = (int) Math.min(buf.length, bytes - at);
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, base + at, buf, 0, n);
                out.write(buf, 0, n);
                at += n;
            }
        } finally {
            if (c != t) c.close();
        }
        out.flush();
    }

    /** The preamble and padded header for an array of {@code dtype} and {@code shape}. */
    static byte[] headerBytes(DType dtype, int[] shape) {
        StringBuilder dims = new StringBuilder();
        for (int k = 0; k < shape.length; k++) dims.append(k == 0 ? "" : ", ").append(shape[k]);
        if (shape.length == 1) dims.append(',');
        String dict = "{'descr': '" + dtype.npyDescr() + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int preamble = 10;
        int total = (preamble + dict.length() + 1 + 63) / 64 * 64;
        if (total - preamble > 65535) {
            preamble = 12;
            total = (preamble + dict.length() + 1 + 63) / 64 * 64;
        }
        int headerLen = total - preamble;
        byte[] out = new byte[total];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = (byte) (preamble == 10 ? 1 : 2);
        out[7] = 0;
        out[8] = (byte) headerLen;
        out[9] = (byte) (headerLen >>> 8);
        if (preamble == 12) {
            out[10] = (byte) (headerLen >>> 16);
            out[11] = (byte) (headerLen >>> 24);
        }
        byte[] d = dict.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(d, 0, out, preamble, d.length);
        for (int k = preamble + d.length; k < total - 1; k++) out[k] = ' ';
        out[total - 1] = '\n';
        return out;
    }
}
