package tessera.memory.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.DType;
import tessera.memory.MemoryStats;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/** .npy: NumPy-written fixtures, write→read round trips, and corrupt files that must fail cleanly. */
class NpyTest {
    @TempDir Path tmp;

    static Path fixture(String name) {
        try {
            return Path.of(NpyTest.class.getResource("/npy/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readsFilesWrittenByNumPy() throws IOException {
        try (Tensor t = Npy.read(fixture("f32_2x3.npy"))) {
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(new int[] {2, 3}, t.shape());
            assertArrayEquals(new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}, t.toFloatArray());
        }
        try (Tensor t = Npy.read(fixture("f64_3.npy"))) {
            assertArrayEquals(new double[] {1.5, -2.25, 1e300}, t.toDoubleArray());
        }
        try (Tensor t = Npy.read(fixture("i64_scalar.npy"))) {
            assertEquals(DType.I64, t.dtype());
            assertEquals(0, t.rank());
            assertEquals(-7.0, t.getDouble());
        }
        try (Tensor t = Npy.read(fixture("u8_2x2x2.npy"))) {
            assertEquals(DType.U8, t.dtype());
            assertArrayEquals(new double[] {0, 30, 60, 90, 120, 150, 180, 210}, t.toDoubleArray());
        }
        try (Tensor t = Npy.read(fixture("i32_0x3.npy"))) {
            assertEquals(DType.I32, t.dtype());
            assertArrayEquals(new int[] {0, 3}, t.shape());
        }
        for (String v : new String[] {"v2", "v3"}) {
            try (TensorArena arena = new TensorArena(); InputStream in = Files.newInputStream(fixture("i32_3x4_" + v + ".npy"))) {
                Tensor t = Npy.read(in, arena);
                assertArrayEquals(new int[] {3, 4}, t.shape());
                for (int i = 0; i < 12; i++) assertEquals(i - 5, t.getDouble(i / 4, i % 4), v);
            }
        }
    }

    @Test
    void rejectsFortranOrderAndUnsupportedDtypesClearly() throws IOException {
        TensorFormatException f = assertThrows(TensorFormatException.class, () -> Npy.read(fixture("f32_fortran.npy")));
        assertTrue(f.getMessage().contains("Fortran") && f.getMessage().contains("[2, 3]"), f.getMessage());
        byte[] good = Files.readAllBytes(fixture("f32_2x3.npy"));
        TensorFormatException h = assertThrows(TensorFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(withHeader(good, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }"))));
        assertTrue(h.getMessage().contains("'<c8'") && h.getMessage().contains("<f4"), h.getMessage());
        TensorFormatException b = assertThrows(TensorFormatException.class, () -> Npy.read(fixture("f32_bigendian.npy")));
        assertTrue(b.getMessage().contains("'>f4'"), b.getMessage());
    }

    @Test
    void headerLiesAndAbsurdSizesNameTheNumbers() throws IOException {
        byte[] good = Files.readAllBytes(fixture("f32_2x3.npy"));
        // shape claims far more data than the file holds: rejected before allocating
        byte[] huge = withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000, 100000), }");
        assertMessage(huge, "[100000, 100000, 100000, 100000]", "overflows");
        byte[] big = withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 1000), }");
        assertMessage(big, "8000000000000 data bytes", "24 bytes", "truncated");
        byte[] small = withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }");
        assertMessage(small, false, "16 data bytes", "24 bytes", "trailing");
        assertMessage(withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000,), }"), "3000000000");
        assertMessage(withHeader(good, "{'descr': '<f4', 'shape': (6,), }"), "missing key");
        assertMessage(withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }"), "non-negative integer");
        assertMessage(withHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}"), "unexpected key 'x'");
        byte[] badMagic = good.clone();
        badMagic[1] = 'X';
        assertMessage(badMagic, "magic");
        byte[] badVersion = good.clone();
        badVersion[6] = 9;
        assertMessage(badVersion, "version 9.0");
        byte[] longHeader = good.clone();
        longHeader[6] = 2;
        assertMessage(longHeader, "header");
    }

    private void assertMessage(byte[] file, String... parts) throws IOException { assertMessage(file, true, parts); }

    /** Reading from a file must fail with every part in the message; reading from a stream too when {@code stream}. */
    private void assertMessage(byte[] file, boolean stream, String... parts) throws IOException {
        Path p = tmp.resolve("bad.npy");
        Files.write(p, file);
        for (int mode = 0; mode < (stream ? 2 : 1); mode++) {
            int m = mode;
            TensorFormatException e = assertThrows(TensorFormatException.class,
                    () -> { try (Tensor t = m == 0 ? Npy.read(p) : Npy.read(new ByteArrayInputStream(file))) { fail("read " + t); } });
            for (String part : parts) {
                if (m == 1 && (part.equals("trailing") || part.equals("24 bytes"))) continue; // a stream has no end to check
                assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
            }
        }
    }

    /** The data of {@code file} behind a new version 1.0 header with text {@code dict}. */
    static byte[] withHeader(byte[] file, String dict) {
        int oldLen = (file[8] & 0xff) | (file[9] & 0xff) << 8;
        byte[] data = java.util.Arrays.copyOfRange(file, 10 + oldLen, file.length);
        StringBuilder h = new StringBuilder(dict);
        while ((10 + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        byte[] hb = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) hb.length, (byte) (hb.length >> 8)});
        out.writeBytes(hb);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** The types NumPy has (not bfloat16). */
    private static final DType[] TYPES = java.util.Arrays.stream(DType.values()).filter(t -> t.npyDescr() != null).toArray(DType[]::new);

    @Test
    void readsFloat16() throws Exception {
        try (Tensor t = Npy.read(fixture("f16_2.npy"))) {
            assertEquals(DType.F16, t.dtype());
            assertArrayEquals(new double[] {1, 2}, t.toDoubleArray());
        }
    }

    @Test
    void writeThenReadRoundTripsForRandomShapesAndDtypes() {
        qt().withExamples(200).forAll(integers().between(0, TYPES.length - 1), integers().between(0, 4), longs().all())
                .checkAssert((ti, rank, seed) -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    int[] shape = new int[rank];
                    for (int i = 0; i < rank; i++) shape[i] = r.nextInt(7);
                    DType type = TYPES[ti];
                    try (Tensor t = Tensor.zeros(type, shape)) {
                        RandomFill.uniform(t, seed, type == DType.U8 ? 0 : -1000, type == DType.U8 ? 256 : 1000);
                        ByteArrayOutputStream out = new ByteArrayOutputStream();
                        Npy.write(t, out);
                        byte[] bytes = out.toByteArray();
                        assertEquals(0, Npy.headerBytes(type, shape).length % 64);
                        try (Tensor back = Npy.read(new ByteArrayInputStream(bytes))) {
                            assertEquals(type, back.dtype());
                            assertArrayEquals(shape, back.shape());
                            assertArrayEquals(t.toDoubleArray(), back.toDoubleArray());
                        }
                        Path p = tmp.resolve("rt.npy");
                        if (rank >= 2 && shape[0] > 1 && shape[1] > 1) { // a transposed view is written in C order
                            Tensor view = t.transpose(0, 1);
                            Npy.write(view, p);
                            try (Tensor back = Npy.read(p)) {
                                assertArrayEquals(view.shape(), back.shape());
                                assertArrayEquals(view.toDoubleArray(), back.toDoubleArray());
                            }
                        } else {
                            Npy.write(t, p);
                            try (TensorArena arena = new TensorArena()) {
                                assertArrayEquals(t.toDoubleArray(), Npy.read(p, arena).toDoubleArray());
                            }
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    @Test
    void truncationsAndByteFlipsFailCleanlyOrReadCorrectly() throws IOException {
        byte[][] valid = {
            Files.readAllBytes(fixture("f32_2x3.npy")), Files.readAllBytes(fixture("i32_3x4_v2.npy")),
            Files.readAllBytes(fixture("i32_3x4_v3.npy")), Files.readAllBytes(fixture("u8_2x2x2.npy")),
        };
        long live = MemoryStats.liveBytes();
        qt().withExamples(1000).forAll(integers().between(0, valid.length - 1), integers().between(0, 2), longs().all())
                .checkAssert((which, kind, seed) -> {
                    byte[] good = valid[which];
                    SplittableRandom r = new SplittableRandom(seed);
                    byte[] bad = mutate(good, kind, r);
                    readExpectingCleanOutcome(bad, () -> Npy.read(new ByteArrayInputStream(bad)));
                    Path p = tmp.resolve("mut.npy");
                    try {
                        Files.write(p, bad);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    readExpectingCleanOutcome(bad, () -> Npy.read(p));
                });
        assertEquals(live, MemoryStats.liveBytes(), "failed reads must not leak off-heap memory");
    }

    /** 0: truncate, 1: flip one byte, 2: flip a byte and truncate/extend. */
    static byte[] mutate(byte[] good, int kind, SplittableRandom r) {
        byte[] bad = kind == 0 ? java.util.Arrays.copyOf(good, r.nextInt(good.length)) : good.clone();
        if (kind >= 1) bad[r.nextInt(bad.length)] ^= (byte) (1 + r.nextInt(255));
        if (kind == 2) bad = java.util.Arrays.copyOf(bad, Math.max(1, bad.length + r.nextInt(-8, 9)));
        return bad;
    }

    interface Reader { Tensor read() throws IOException; }

    static void readExpectingCleanOutcome(byte[] bytes, Reader reader) {
        try (Tensor t = reader.read()) {
            t.toDoubleArray(); // a successful read yields a usable tensor
        } catch (IllegalArgumentException expected) { // TensorFormatException or an IllegalArgumentException
            assertTrue(expected.getMessage() != null && !expected.getMessage().isBlank());
        } catch (Throwable other) {
            throw new AssertionError("unexpected " + other + " for " + bytes.length + " bytes", other);
        }
    }
}
