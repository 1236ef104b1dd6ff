package tessera.memory.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.DType;
import tessera.memory.MemoryStats;
import tessera.memory.RandomFill;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;

/** IDX: the bundled MNIST subset, round trips (raw and gzip), and corrupt files that must fail cleanly. */
class IdxTest {
    @TempDir Path tmp;

    /** The project's data/mnist folder, found from the module directory Surefire runs in. */
    static Path mnistDir() {
        Path p = Path.of("").toAbsolutePath();
        for (; p != null; p = p.getParent()) {
            Path d = p.resolve("data/mnist");
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("data/mnist not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void readsTheBundledMnistSubsetWithTheDocumentedClassCounts() throws IOException {
        Path dir = mnistDir();
        int[][] counts = {{801, 906, 793, 826, 771, 689, 825, 840, 759, 790}, {200, 221, 198, 206, 209, 174, 189, 230, 185, 188}};
        String[] prefix = {"train", "t10k"};
        int[] sizes = {8000, 2000};
        for (int s = 0; s < 2; s++) {
            try (TensorArena arena = new TensorArena()) {
                Tensor images = Idx.readImages(dir.resolve(prefix[s] + "-images-idx3-ubyte.gz"), arena);
                Tensor labels = Idx.readLabels(dir.resolve(prefix[s] + "-labels-idx1-ubyte.gz"), arena);
                assertEquals(DType.U8, images.dtype());
                assertArrayEquals(new int[] {sizes[s], 28, 28}, images.shape());
                assertArrayEquals(new int[] {sizes[s]}, labels.shape());
                int[] histogram = new int[10];
                for (double l : labels.toDoubleArray()) histogram[(int) l]++;
                assertArrayEquals(counts[s], histogram, prefix[s] + " class counts");
                double[] px = images.narrow(0, 0, 100).toDoubleArray();
                double max = 0, sum = 0;
                for (double v : px) { max = Math.max(max, v); sum += v; }
                assertEquals(255.0, max, "digits reach full intensity");
                double mean = sum / px.length;
                assertTrue(mean > 20 && mean < 60, "mean grey level of MNIST digits is about 33, got " + mean);
            }
        }
    }

    @Test
    void roundTripsRawAndGzipThroughFilesAndStreams() {
        qt().withExamples(100).forAll(integers().between(1, 4), longs().all(), integers().between(0, 1)).checkAssert((rank, seed, gz) -> {
            SplittableRandom r = new SplittableRandom(seed);
            int[] shape = new int[rank];
            for (int i = 0; i < rank; i++) shape[i] = r.nextInt(6);
            try (Tensor t = RandomFill.uniform(Tensor.zeros(DType.U8, shape), seed, 0, 256)) {
                boolean gzip = gz == 1;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                Idx.write(t, out, gzip);
                try (Tensor back = Idx.read(new ByteArrayInputStream(out.toByteArray()))) {
                    assertArrayEquals(shape, back.shape());
                    assertArrayEquals(t.toDoubleArray(), back.toDoubleArray());
                }
                Path p = tmp.resolve("rt.idx");
                Idx.write(t, p, gzip);
                try (TensorArena arena = new TensorArena()) {
                    Tensor back = Idx.read(p, arena);
                    assertArrayEquals(t.toDoubleArray(), back.toDoubleArray());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static byte[] header(int magic, int... dims) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int v : concat(magic, dims)) out.writeBytes(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        return out.toByteArray();
    }

    private static int[] concat(int first, int[] rest) {
        int[] a = new int[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) { g.write(raw); }
        return out.toByteArray();
    }

    private static byte[] join(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badHeadersAndSizesNameTheNumbers() throws IOException {
        byte[] six = new byte[6];
        expect(join(header(0x00000801, 6), six)); // sanity: valid
        expect(join(header(0x01000801, 6), six), "bad IDX magic number 0x01000801");
        expect(join(header(0x00000D01, 6), six), "element type 0x0d");
        expect(join(header(0x00000800), six), "0 dimensions");
        expect(join(header(0x00000803, 60000, 28, 28), six), "[60000, 28, 28] = 47040000 data bytes", "truncated");
        expect(join(header(0x00000801, 4), six), "[4] = 4 data bytes", "trailing");
        expect(join(header(0x00000803, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE), six), "overflows");
        expect(join(header(0x00000802, 100000, 100000), six), "10000000000 bytes of data, more than the limit");
        expect(join(header(0x00000801, -1), six), "dimension 0 is 4294967295");
        expect(java.util.Arrays.copyOf(header(0x00000803, 5, 5, 5), 9), "ends inside its header");
        expect(new byte[] {0, 0}, "too short");
    }

    /** Raw and gzip, file and stream: fails with all {@code parts} in the message, or (no parts) reads fine. */
    private void expect(byte[] raw, String... parts) throws IOException {
        for (byte[] bytes : new byte[][] {raw, gzip(raw)}) {
            Path p = tmp.resolve("h.idx");
            Files.write(p, bytes);
            for (int mode = 0; mode < 2; mode++) {
                int m = mode;
                if (parts.length == 0) {
                    try (Tensor t = m == 0 ? Idx.read(p) : Idx.read(new ByteArrayInputStream(bytes))) {
                        assertEquals(6, t.numel());
                    }
                    continue;
                }
                TensorFormatException e = assertThrows(TensorFormatException.class,
                        () -> (m == 0 ? Idx.read(p) : Idx.read(new ByteArrayInputStream(bytes))).close());
                for (String part : parts) {
                    assertTrue(e.getMessage().toLowerCase().contains(part.toLowerCase()), "message '" + e.getMessage() + "' lacks '" + part + "'");
                }
            }
        }
    }

    @Test
    void imagesAndLabelsRequireTheirRank() throws IOException {
        Path p = tmp.resolve("l.idx");
        Files.write(p, join(header(0x00000801, 3), new byte[3]));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Idx.readImages(p, null).close());
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[N, rows, cols]"), e.getMessage());
        try (Tensor t = Idx.readLabels(p, null)) {
            assertEquals(3, t.numel());
        }
    }

    @Test
    void truncationsAndByteFlipsOfRawAndGzipFilesFailCleanlyOrReadCorrectly() throws IOException {
        byte[] rawImages;
        try (Tensor t = RandomFill.uniform(Tensor.zeros(DType.U8, 5, 7, 6), 3, 0, 256)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Idx.write(t, out, false);
            rawImages = out.toByteArray();
        }
        byte[] realLabels = Files.readAllBytes(mnistDir().resolve("t10k-labels-idx1-ubyte.gz"));
        byte[][] valid = {rawImages, gzip(rawImages), realLabels, gzip(join(header(0x00000801, 3), new byte[] {1, 2, 3}))};
        long live = MemoryStats.liveBytes();
        qt().withExamples(1500).forAll(integers().between(0, valid.length - 1), integers().between(0, 2), longs().all())
                .checkAssert((which, kind, seed) -> {
                    byte[] bad = NpyTest.mutate(valid[which], kind, new SplittableRandom(seed));
                    NpyTest.readExpectingCleanOutcome(bad, () -> Idx.read(new ByteArrayInputStream(bad)));
                    Path p = tmp.resolve("mut.idx");
                    try {
                        Files.write(p, bad);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    NpyTest.readExpectingCleanOutcome(bad, () -> Idx.read(p));
                });
        assertEquals(live, MemoryStats.liveBytes(), "failed reads must not leak off-heap memory");
    }
}
