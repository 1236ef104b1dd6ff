package tessera.layers.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/**
 * The safetensors file format (Hugging Face), readable by other tools:
 * <pre>
 *   8 bytes    N, the header length, unsigned little-endian
 *   N bytes    UTF-8 JSON: {"__metadata__": {string: string}?,
 *                           name: {"dtype": "F32"|"F64"|"I32"|"I64"|"U8", "shape": [d0, ...], "data_offsets": [begin, end]}, ...}
 *              padded with trailing spaces so that 8 + N is a multiple of 8
 *   the rest   raw little-endian row-major tensor data; offsets are relative to this section, tensors follow each
 *              other without gaps or overlaps and exactly fill it
 * </pre>
 * Writing keeps the map's order (first tensor at offset 0), with {@code __metadata__} first in the header, as the
 * reference implementation writes it. Reading validates the whole header against the file length before
 * allocating any tensor, and rejects malformed files with {@link SafeTensorsFormatException}; tensors are returned
 * in data-offset order.
 */
public final class SafeTensors {
    /** Largest header accepted, in bytes (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key of the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long CHUNK = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private SafeTensors() {}

    /** One tensor's header entry; {@code begin}/{@code end} are byte offsets into the data section. */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) {
        public long bytes() { return end - begin; }

        @Override
        public String toString() { return name + ": " + dtype + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")"; }
    }

    /** A validated header: entries in data-offset order, metadata, and the byte length of the header JSON. */
    public record Header(List<Entry> entries, Map<String, String> metadata, long headerBytes) {
        /** Where the data section starts in the file. */
        public long dataStart() { return 8 + headerBytes; }
    }

    /**
     * Tensors read from a file, in data-offset order, and the header's metadata (empty if none).
     * {@link #close()} closes every tensor (which frees self-owned ones; arena-allocated ones live with the arena).
     */
    public record Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() { for (Tensor t : tensors.values()) t.close(); }
    }

    // ================================================================ writing

    /** Writes {@code tensors} (any strides) and {@code metadata} (may be null) to {@code file}, replacing it atomically where the file system allows. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeAll(ch, ByteBuffer.wrap(header));
                for (Tensor t : tensors.values()) writeData(ch, t);
                ch.force(false);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes the file's bytes to {@code out} (not closed). */
    public static void write(OutputStream out, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        out.write(header);
        WritableByteChannel ch = Channels.newChannel(out);
        for (Tensor t : tensors.values()) writeData(ch, t);
        out.flush();
    }

    /** The file's bytes in memory (for small models and tests). */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            write(out, tensors, metadata);
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The 8-byte length plus the padded JSON header for these tensors, laid out in map order. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        if (tensors == null) throw new IllegalArgumentException("safetensors: tensors map is null");
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try (JsonGenerator gen = JSON.getFactory().createGenerator(json)) {
            gen.writeStartObject();
            if (metadata != null && !metadata.isEmpty()) {
                gen.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    if (e.getKey() == null || e.getValue() == null) {
                        throw new IllegalArgumentException("safetensors: metadata entry " + e.getKey() + "=" + e.getValue() + " has a null key or value");
                    }
                    gen.writeStringField(e.getKey(), e.getValue());
                }
                gen.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String name = e.getKey();
                Tensor t = e.getValue();
                if (name == null) throw new IllegalArgumentException("safetensors: a tensor name is null");
                if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("safetensors: tensor name '" + METADATA_KEY + "' is reserved for metadata");
                if (t == null) throw new IllegalArgumentException("safetensors: tensor '" + name + "' is null");
                long bytes = Math.multiplyExact(t.numel(), (long) t.dtype().byteSize());
                gen.writeObjectFieldStart(name);
                gen.writeStringField("dtype", t.dtype().name());
                gen.writeArrayFieldStart("shape");
                for (int d : t.shape()) gen.writeNumber(d);
                gen.writeEndArray();
                gen.writeArrayFieldStart("data_offsets");
                gen.writeNumber(offset);
                gen.writeNumber(Math.addExact(offset, bytes));
                gen.writeEndArray();
                gen.writeEndObject();
                offset += bytes;
            }
            gen.writeEndObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("safetensors: total tensor size overflows a long");
        }
        int n = json.size();
        int padded = (n + 7) / 8 * 8;
        byte[] out = new byte[8 + padded];
        MemorySegment.ofArray(out).set(U64, 0, padded);
        System.arraycopy(json.toByteArray(), 0, out, 8, n);
        Arrays.fill(out, 8 + n, out.length, (byte) ' ');
        return out;
    }

    private static void writeData(WritableByteChannel ch, Tensor t) throws IOException {
        Tensor c = t.contiguous();
        try {
            long bytes = c.numel() * c.dtype().byteSize();
            MemorySegment seg = c.segment().asSlice(c.byteOffset(), bytes);
            for (long pos = 0; pos < bytes; pos += CHUNK) {
                writeAll(ch, seg.asSlice(pos, Math.min(CHUNK, bytes - pos)).asByteBuffer());
            }
        } finally {
            if (c != t) c.close();
        }
    }

    private static void writeAll(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    // ================================================================ reading

    /** Reads {@code file} into self-owned tensors (close them, or the returned {@link Contents}). */
    public static Contents read(Path file) throws IOException { return read(file, null); }

    /** Reads {@code file} into tensors allocated in {@code arena} (self-owned when null). */
    public static Contents read(Path file, TensorArena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(new ChannelSource(ch, file.getFileName().toString()), arena);
        }
    }

    /** Reads a whole file held in memory into self-owned tensors. */
    public static Contents read(byte[] bytes) { return read(bytes, null); }

    /** Reads a whole file held in memory into tensors allocated in {@code arena} (self-owned when null). */
    public static Contents read(byte[] bytes, TensorArena arena) {
        try {
            return read(new SegmentSource(MemorySegment.ofArray(bytes)), arena);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);   // cannot happen for memory
        }
    }

    /** Reads and validates only the header of {@code file}. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(new ChannelSource(ch, file.getFileName().toString()));
        }
    }

    /** Reads and validates only the header of a file held in memory. */
    public static Header readHeader(byte[] bytes) {
        try {
            return readHeader(new SegmentSource(MemorySegment.ofArray(bytes)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Contents read(Source src, TensorArena arena) throws IOException {
        Header h = readHeader(src);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        boolean ok = false;
        try {
            for (Entry e : h.entries()) {
                Tensor t = arena == null ? Tensor.zeros(e.dtype(), e.shape()) : arena.allocate(e.dtype(), e.shape());
                out.put(e.name(), t);
                if (e.bytes() > 0) src.read(h.dataStart() + e.begin(), t.segment().asSlice(t.byteOffset(), e.bytes()));
            }
            ok = true;
        } finally {
            if (!ok) for (Tensor t : out.values()) t.close();
        }
        return new Contents(out, h.metadata());
    }

    private static Header readHeader(Source src) throws IOException {
        long size = src.size();
        String what = src.describe();
        if (size < 8) {
            throw new SafeTensorsFormatException("safetensors " + what + " has " + size + " bytes, too short for the 8-byte header length");
        }
        MemorySegment lenBytes = MemorySegment.ofArray(new byte[8]);
        src.read(0, lenBytes);
        long n = lenBytes.get(U64, 0);
        if (n < 0 || n > size - 8) {
            throw new SafeTensorsFormatException("safetensors " + what + ": header length field says " + Long.toUnsignedString(n)
                    + " bytes, but only " + (size - 8) + " bytes follow the length field (truncated file or corrupt length)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException("safetensors " + what + ": header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n < 2) throw new SafeTensorsFormatException("safetensors " + what + ": header length " + n + " is too short for a JSON object");
        byte[] raw = new byte[(int) n];
        src.read(8, MemorySegment.ofArray(raw));
        long dataLen = size - 8 - n;
        return parseHeader(raw, dataLen, what);
    }

    static Header parseHeader(byte[] raw, long dataLen, String what) {
        if (raw[0] != '{') {
            throw new SafeTensorsFormatException("safetensors " + what + ": header does not start with '{' (byte 8 is 0x"
                    + Integer.toHexString(raw[0] & 0xff) + "); not a safetensors file or corrupt header");
        }
        String text;
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
            text = cb.toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsFormatException("safetensors " + what + ": header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new SafeTensorsFormatException("safetensors " + what + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsFormatException("safetensors " + what + ": header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals(METADATA_KEY)) {
                metadata = metadata(f.getValue(), what);
            } else {
                entries.add(entry(f.getKey(), f.getValue(), dataLen, what));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));  // stable: JSON order for ties
        long expect = 0;
        Entry prev = null;
        for (Entry e : entries) {
            if (e.begin() != expect) {
                if (e.begin() < expect) {
                    throw new SafeTensorsFormatException("safetensors " + what + ": tensor '" + e.name() + "' data [" + e.begin() + ", " + e.end()
                            + ") overlaps tensor '" + prev.name() + "' data [" + prev.begin() + ", " + prev.end() + ")");
                }
                throw new SafeTensorsFormatException("safetensors " + what + ": gap in the data section: tensor '" + e.name() + "' starts at "
                        + e.begin() + " but the previous tensor" + (prev == null ? "s end" : " '" + prev.name() + "' ends") + " at " + expect);
            }
            expect = e.end();
            prev = e;
        }
        if (expect != dataLen) {
            throw new SafeTensorsFormatException("safetensors " + what + ": the data section has " + dataLen + " bytes but the header's tensors cover "
                    + expect + " (trailing bytes or corrupt offsets)");
        }
        return new Header(Collections.unmodifiableList(entries), Collections.unmodifiableMap(metadata), raw.length);
    }

    private static Map<String, String> metadata(JsonNode node, String what) {
        if (!node.isObject()) throw new SafeTensorsFormatException("safetensors " + what + ": " + METADATA_KEY + " is not a JSON object");
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isTextual()) {
                throw new SafeTensorsFormatException("safetensors " + what + ": metadata value of '" + f.getKey() + "' is "
                        + f.getValue().getNodeType() + ", expected a string");
            }
            m.put(f.getKey(), f.getValue().textValue());
        }
        return m;
    }

    private static Entry entry(String name, JsonNode node, long dataLen, String what) {
        String where = "safetensors " + what + ": tensor '" + name + "'";
        if (!node.isObject()) throw new SafeTensorsFormatException(where + " is described by " + node.getNodeType() + ", expected a JSON object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new SafeTensorsFormatException(where + " has unknown field '" + k + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dt = node.get("dtype"), sh = node.get("shape"), off = node.get("data_offsets");
        if (dt == null || sh == null || off == null) {
            throw new SafeTensorsFormatException(where + " lacks " + (dt == null ? "dtype" : sh == null ? "shape" : "data_offsets"));
        }
        if (!dt.isTextual()) throw new SafeTensorsFormatException(where + ": dtype is " + dt.getNodeType() + ", expected a string");
        DType dtype = switch (dt.textValue()) {
            case "F32" -> DType.F32;
            case "F64" -> DType.F64;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "U8" -> DType.U8;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I8" -> DType.I8;
            case "I16" -> DType.I16;
            case "U16" -> DType.U16;
            case "U32" -> DType.U32;
            case "U64" -> DType.U64;
            default -> throw new SafeTensorsFormatException(where + " has unsupported dtype '" + dt.textValue()
                    + "' (supported: F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64)");
        };
        if (!sh.isArray()) throw new SafeTensorsFormatException(where + ": shape is " + sh.getNodeType() + ", expected an array");
        int[] shape = new int[sh.size()];
        long numel = 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new SafeTensorsFormatException(where + ": shape dimension " + i + " is " + d + ", expected an integer in [0, " + Integer.MAX_VALUE + "]");
            }
            shape[i] = d.intValue();
            if (!overflow) {
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException e) {
                    overflow = true;
                }
            }
        }
        if (!off.isArray() || off.size() != 2) {
            throw new SafeTensorsFormatException(where + ": data_offsets is " + off + ", expected [begin, end]");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode d = off.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafeTensorsFormatException(where + ": data_offsets[" + i + "] is " + d + ", expected a non-negative integer");
            }
            be[i] = d.longValue();
        }
        if (be[0] > be[1] || be[1] > dataLen) {
            throw new SafeTensorsFormatException(where + ": data_offsets [" + be[0] + ", " + be[1] + "] are out of range for a data section of "
                    + dataLen + " bytes");
        }
        long span = be[1] - be[0];
        boolean mismatch = overflow || numel > Long.MAX_VALUE / dtype.byteSize() || numel * dtype.byteSize() != span;
        if (mismatch) {
            throw new SafeTensorsFormatException(where + ": shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + (overflow || numel > Long.MAX_VALUE / dtype.byteSize() ? "more than 2^63" : String.valueOf(numel * dtype.byteSize()))
                    + " bytes, but data_offsets [" + be[0] + ", " + be[1] + "] span " + span);
        }
        return new Entry(name, dtype, shape, be[0], be[1]);
    }

    // ================================================================ byte sources

    private interface Source {
        long size() throws IOException;

        /** Fills {@code dst} from position {@code pos}; a short read is a format error (the file shrank). */
        void read(long pos, MemorySegment dst) throws IOException;

        String describe();
    }

    private record ChannelSource(FileChannel ch, String name) implements Source {
        public long size() throws IOException { return ch.size(); }

        public void read(long pos, MemorySegment dst) throws IOException {
            long total = dst.byteSize();
            for (long done = 0; done < total; done += CHUNK) {
                ByteBuffer b = dst.asSlice(done, Math.min(CHUNK, total - done)).asByteBuffer();
                long at = pos + done;
                while (b.hasRemaining()) {
                    int r = ch.read(b, at);
                    if (r < 0) {
                        throw new SafeTensorsFormatException("safetensors file " + name + " ended at byte " + at + " while reading (file changed?)");
                    }
                    at += r;
                }
            }
        }

        public String describe() { return "file " + name; }
    }

    private record SegmentSource(MemorySegment seg) implements Source {
        public long size() { return seg.byteSize(); }

        public void read(long pos, MemorySegment dst) { MemorySegment.copy(seg, pos, dst, 0, dst.byteSize()); }

        public String describe() { return "data"; }
    }
}
