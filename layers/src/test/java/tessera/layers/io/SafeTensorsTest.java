package tessera.layers.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

class SafeTensorsTest {
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final DType[] DTYPES = DType.values();

    @TempDir
    Path dir;

    /** A random tensor map (0..5 tensors, rank 0..4, dims 0..5, every dtype) built from one seed. */
    static LinkedHashMap<String, Tensor> randomTensors(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        int count = r.nextInt(6);
        for (int k = 0; k < count; k++) {
            int[] shape = new int[r.nextInt(5)];
            for (int d = 0; d < shape.length; d++) shape[d] = r.nextInt(8) == 0 ? 0 : r.nextInt(1, 6);
            DType t = DTYPES[r.nextInt(DTYPES.length)];
            Tensor x = Tensor.zeros(t, shape);
            MemorySegment seg = x.segment();
            long bytes = x.numel() * t.byteSize();
            for (long i = 0; i < bytes; i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));   // any bit pattern, NaNs included
            m.put("layer" + k + (r.nextBoolean() ? ".weight" : ".bias/ü€"), x);
        }
        return m;
    }

    static void closeAll(Map<String, Tensor> m) { m.values().forEach(Tensor::close); }

    static void assertSame(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()), "names and order");
        for (String k : want.keySet()) {
            Tensor a = want.get(k), b = got.get(k);
            assertEquals(a.dtype(), b.dtype(), k);
            assertArrayEquals(a.shape(), b.shape(), k);
            long bytes = a.numel() * a.dtype().byteSize();
            assertEquals(-1L, MemorySegment.mismatch(a.segment(), a.byteOffset(), a.byteOffset() + bytes,
                    b.segment(), b.byteOffset(), b.byteOffset() + bytes), k + ": data bytes differ");
        }
    }

    // ================================================================ round trips

    @Test
    void roundTripIsExactForRandomShapesAndDtypes() {
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            LinkedHashMap<String, Tensor> m = randomTensors(seed);
            Map<String, String> meta = new LinkedHashMap<>();
            if (seed % 2 == 0) { meta.put("format", "pt"); meta.put("seed", Long.toString(seed)); }
            try {
                byte[] bytes = SafeTensors.toBytes(m, meta);
                long n = MemorySegment.ofArray(bytes).get(U64, 0);
                assertEquals(0, (8 + n) % 8, "header padded to a multiple of 8");
                try (SafeTensors.Contents c = SafeTensors.read(bytes)) {
                    assertSame(m, c.tensors());
                    assertEquals(meta, c.metadata());
                }
                try (TensorArena arena = new TensorArena()) {
                    SafeTensors.Contents c = SafeTensors.read(bytes, arena);
                    assertSame(m, c.tensors());
                }
            } finally {
                closeAll(m);
            }
        });
    }

    @Test
    void roundTripThroughAFile() throws IOException {
        for (long seed = 1; seed <= 20; seed++) {
            LinkedHashMap<String, Tensor> m = randomTensors(seed);
            try {
                Path f = dir.resolve("model" + seed + ".safetensors");
                SafeTensors.write(f, m, Map.of("arch", "lenet"));
                assertArrayEquals(SafeTensors.toBytes(m, Map.of("arch", "lenet")), Files.readAllBytes(f));
                try (SafeTensors.Contents c = SafeTensors.read(f)) {
                    assertSame(m, c.tensors());
                    assertEquals(Map.of("arch", "lenet"), c.metadata());
                }
                try (TensorArena arena = new TensorArena()) {
                    assertSame(m, SafeTensors.read(f, arena).tensors());
                }
                assertEquals(m.size(), SafeTensors.readHeader(f).entries().size());
            } finally {
                closeAll(m);
            }
        }
    }

    @Test
    void layoutMatchesTheReferenceFormat() {
        try (Tensor a = Tensor.of(new float[]{1, 2}, 2); Tensor b = Tensor.ofLongs(new long[]{7}, 1, 1)) {
            LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
            m.put("a", a);
            m.put("b", b);
            byte[] bytes = SafeTensors.toBytes(m, Map.of("k", "v"));
            String json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    + "\"b\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[8,16]}}";
            int padded = (json.length() + 7) / 8 * 8;
            assertEquals(padded, MemorySegment.ofArray(bytes).get(U64, 0));
            assertEquals(json + " ".repeat(padded - json.length()), new String(bytes, 8, padded, StandardCharsets.UTF_8));
            MemorySegment data = MemorySegment.ofArray(bytes).asSlice(8 + padded);
            assertEquals(16, data.byteSize());
            assertEquals(1f, data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            assertEquals(2f, data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4));
            assertEquals(7L, data.get(U64, 8));
        }
    }

    @Test
    void readsHeadersWrittenByOtherToolsInAnyKeyOrder() {
        // keys out of offset order, whitespace, metadata last: tensors come back in data order
        String json = "{ \"second\": {\"shape\": [1], \"data_offsets\": [4, 12], \"dtype\": \"F64\"},\n"
                + "  \"first\": {\"dtype\": \"U8\", \"shape\": [2, 2], \"data_offsets\": [0, 4]}, \"__metadata__\": {\"format\": \"pt\"} }";
        byte[] data = new byte[12];
        data[0] = 1; data[1] = 2; data[2] = 3; data[3] = (byte) 255;
        MemorySegment.ofArray(data).set(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4, -2.5);
        try (SafeTensors.Contents c = SafeTensors.read(file(json, data))) {
            assertEquals(List.of("first", "second"), new ArrayList<>(c.tensors().keySet()));
            assertArrayEquals(new double[]{1, 2, 3, 255}, c.tensors().get("first").toDoubleArray());
            assertArrayEquals(new double[]{-2.5}, c.tensors().get("second").toDoubleArray());
            assertEquals(Map.of("format", "pt"), c.metadata());
        }
    }

    @Test
    void writesStridedViewsInRowMajorOrder() {
        try (Tensor t = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3)) {
            Map<String, Tensor> m = Map.of("tt", t.transpose(0, 1));
            try (SafeTensors.Contents c = SafeTensors.read(SafeTensors.toBytes(m, null))) {
                assertArrayEquals(new int[]{3, 2}, c.tensors().get("tt").shape());
                assertArrayEquals(new double[]{1, 4, 2, 5, 3, 6}, c.tensors().get("tt").toDoubleArray());
            }
        }
    }

    @Test
    void writeRejectsReservedNames() {
        try (Tensor t = Tensor.zeros(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.toBytes(Map.of("__metadata__", t), null));
            assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        }
    }

    // ================================================================ corrupt files

    /** Header text + data → file bytes (header padded like the writer does). */
    static byte[] file(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded + data.length];
        MemorySegment.ofArray(out).set(U64, 0, padded);
        System.arraycopy(h, 0, out, 8, h.length);
        for (int i = 8 + h.length; i < 8 + padded; i++) out[i] = ' ';
        System.arraycopy(data, 0, out, 8 + padded, data.length);
        return out;
    }

    static void rejects(byte[] bytes, String... parts) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(bytes).close());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    static String one(String dtype, String shape, String offsets) {
        return "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    }

    @Test
    void corruptFilesAreRejectedWithClearMessages() {
        byte[] d16 = new byte[16];
        rejects(new byte[5], "5 bytes", "too short");
        byte[] hugeLength = new byte[64];
        MemorySegment.ofArray(hugeLength).set(U64, 0, 1L << 62);
        rejects(hugeLength, String.valueOf(1L << 62), "56 bytes follow");
        MemorySegment.ofArray(hugeLength).set(U64, 0, -1L);   // 2^64 − 1 as unsigned
        rejects(hugeLength, "18446744073709551615");
        rejects(file(one("F32", "[4]", "[0,16]"), new byte[15]), "15 bytes", "16");                 // truncated data
        rejects(file(one("F32", "[4]", "[0,16]"), new byte[17]), "17 bytes", "cover 16");           // trailing data
        rejects(file(one("F32", "[5]", "[0,16]"), d16), "'w'", "[5]", "20 bytes", "span 16");      // shape × dtype ≠ span
        rejects(file(one("F32", "[4]", "[0,32]"), d16), "'w'", "out of range", "16 bytes");
        rejects(file(one("F32", "[2]", "[8,16]"), d16), "gap");
        rejects(file(one("F32", "[4]", "[16,0]"), d16), "out of range");
        rejects(file(one("F32", "[4]", "[-1,15]"), d16), "data_offsets[0]");
        rejects(file(one("F32", "[4]", "[0,16.0]"), d16), "data_offsets[1]");
        rejects(file(one("F32", "[4]", "[0]"), d16), "[begin, end]");
        rejects(file(one("F32", "[-4]", "[0,16]"), d16), "shape dimension 0");
        rejects(file(one("F32", "[4294967296]", "[0,16]"), d16), "shape dimension 0");
        rejects(file(one("F32", "[65536,65536,65536,65536,65536]", "[0,16]"), d16), "more than 2^63");
        rejects(file(one("F8_E4M3", "[16]", "[0,16]"), d16), "unsupported dtype 'F8_E4M3'", "F32");
        rejects(file(one("F32", "4", "[0,16]"), d16), "shape is");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", d16), "lacks data_offsets");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":1}}", d16), "unknown field 'x'");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", d16),
                "overlaps");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", d16),
                "not valid JSON");                                                                          // duplicate key
        rejects(file("{\"w\":{\"dtype\":\"F32\",", d16), "not valid JSON");
        rejects(file("{\"__metadata__\":{\"n\":1}}", new byte[0]), "metadata", "'n'");
        rejects(file("[1,2]", new byte[0]), "does not start with '{'");
        rejects(file("{} x", new byte[0]), "not valid JSON");
        byte[] badUtf8 = file("{\"w\u00e9\":{}}", new byte[0]);
        badUtf8[11] = (byte) 0xC3; badUtf8[12] = (byte) 0x28;                                           // invalid 2-byte sequence
        rejects(badUtf8, "UTF-8");
        // an empty header object with no data is a valid, empty file
        try (SafeTensors.Contents c = SafeTensors.read(file("{}", new byte[0]))) {
            assertTrue(c.tensors().isEmpty());
        }
    }

    @Test
    void truncatedFileOnDiskIsRejected() throws IOException {
        try (Tensor t = Tensor.zeros(DType.F64, 100)) {
            Path f = dir.resolve("t.safetensors");
            SafeTensors.write(f, Map.of("t", t), null);
            byte[] all = Files.readAllBytes(f);
            Files.write(f, java.util.Arrays.copyOf(all, all.length - 1));
            SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(f));
            assertTrue(e.getMessage().contains("t.safetensors"), e.getMessage());
        }
    }

    /** Every truncation of a valid file is rejected with the format exception (and nothing else). */
    @Test
    void everyTruncationIsRejected() {
        qt().withExamples(60).forAll(longs().all()).checkAssert(seed -> {
            LinkedHashMap<String, Tensor> m = randomTensors(seed);
            try {
                byte[] bytes = SafeTensors.toBytes(m, Map.of("a", "b"));
                for (int len = 0; len < bytes.length; len++) {
                    byte[] cut = java.util.Arrays.copyOf(bytes, len);
                    try {
                        SafeTensors.read(cut).close();
                        // only possible when the cut removed nothing that the header describes: impossible, as the
                        // header length field, the header, or data bytes are always missing
                        fail("truncation to " + len + " of " + bytes.length + " bytes was accepted");
                    } catch (SafeTensorsFormatException expected) {
                        assertFalse(expected.getMessage().isBlank());
                    }
                }
            } finally {
                closeAll(m);
            }
        });
    }

    /** Random byte flips give either the format exception or a correct read; never another throwable. */
    @Test
    void byteFlipsGiveTheFormatExceptionOrAValidRead() {
        qt().withExamples(3000).forAll(longs().all(), integers().between(1, 4)).checkAssert((seed, flips) -> {
            LinkedHashMap<String, Tensor> m = randomTensors(seed);
            try {
                byte[] bytes = SafeTensors.toBytes(m, Map.of("a", "b"));
                SplittableRandom r = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
                // favour the length field and the header, where corruption is interesting
                long n = MemorySegment.ofArray(bytes).get(U64, 0);
                for (int f = 0; f < flips; f++) {
                    int pos = r.nextInt(4) == 0 ? r.nextInt(bytes.length) : r.nextInt((int) Math.min(bytes.length, 8 + n));
                    bytes[pos] ^= (byte) r.nextInt(1, 256);
                }
                try (SafeTensors.Contents c = SafeTensors.read(bytes)) {
                    // a successful read must be self-consistent: re-writing it gives a file that reads back the same
                    try (SafeTensors.Contents again = SafeTensors.read(SafeTensors.toBytes(c.tensors(), c.metadata()))) {
                        assertEquals(c.tensors().keySet(), again.tensors().keySet());
                    }
                } catch (SafeTensorsFormatException expected) {
                    assertFalse(expected.getMessage().isBlank());
                } catch (Throwable t) {
                    fail("corrupt file raised " + t + " instead of SafeTensorsFormatException", t);
                }
            } finally {
                closeAll(m);
            }
        });
    }

    @Test
    void hugeClaimedTensorInASmallFileAllocatesNothing() {
        // header claims 2^31−1 × 2^31−1 F64 values over a 16-byte data section: must be rejected before allocating
        rejects(file(one("F64", "[2147483647,2147483647]", "[0,16]"), new byte[16]), "span 16");
        long before = tessera.memory.MemoryStats.liveBytes();
        rejects(file(one("F64", "[2147483647]", "[0,17179869176]"), new byte[16]), "out of range");
        assertEquals(before, tessera.memory.MemoryStats.liveBytes());
    }
}
