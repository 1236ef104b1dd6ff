package tessera.zoo.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.TensorArena;
import tessera.memory.io.Idx;

/**
 * MNIST in the standard IDX files ({@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
 * {@code t10k-...}), gzip or raw. Pixels are scaled to [0, 1] and normalized with MNIST's mean 0.1307 and standard
 * deviation 0.3081 (the usual PyTorch recipe).
 */
public final class Mnist {
    public static final double MEAN = 0.1307, STD = 0.3081;

    private Mnist() {}

    /** The training split in {@code dir}. */
    public static ImageDataset train(Path dir) throws IOException { return load(dir, "train"); }

    /** The test split ({@code t10k}) in {@code dir}. */
    public static ImageDataset test(Path dir) throws IOException { return load(dir, "t10k"); }

    /** Loads {@code prefix-images-idx3-ubyte[.gz]} and {@code prefix-labels-idx1-ubyte[.gz]}. */
    public static ImageDataset load(Path dir, String prefix) throws IOException {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        try (TensorArena scratch = new TensorArena()) {
            Tensor raw = Idx.readImages(images, scratch);
            Tensor rawLabels = Idx.readLabels(labels, scratch);
            if (raw.dim(0) != rawLabels.dim(0)) {
                throw new IllegalArgumentException(images + " holds " + raw.dim(0) + " images but " + labels + " holds " + rawLabels.dim(0) + " labels");
            }
            int n = raw.dim(0), h = raw.dim(1), w = raw.dim(2);
            Tensor x = Tensor.zeros(DType.F32, n, 1, h, w);
            byte[] bytes = raw.segment().asSlice(raw.offset(), (long) n * h * w).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            float[] f = new float[bytes.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) (((bytes[i] & 0xFF) / 255.0 - MEAN) / STD);
            java.lang.foreign.MemorySegment.copy(f, 0, x.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, f.length);
            long[] l = new long[n];
            for (int i = 0; i < n; i++) {
                l[i] = (long) rawLabels.getDouble(i);
                if (l[i] > 9) throw new IllegalArgumentException(labels + ": label " + l[i] + " at " + i + " is not a digit 0..9");
            }
            return new ImageDataset(x, Tensor.ofLongs(l, n), 10);
        }
    }

    private static Path find(Path dir, String base) throws IOException {
        for (String name : new String[]{base + ".gz", base, base.replace("-idx", ".idx")}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        throw new java.io.FileNotFoundException("no " + base + "[.gz] in " + dir.toAbsolutePath()
                + " (expected the standard MNIST IDX files)");
    }

    /** The MNIST subset bundled with the project ({@code data/mnist} under the project root). */
    public static Path bundledDir() {
        String root = System.getProperty("tessera.root");
        Path base = root != null ? Path.of(root) : Path.of(".");
        Path p = base.resolve("data/mnist");
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("bundled MNIST not found at " + p.toAbsolutePath() + " (run from the project root or set -Dtessera.root)");
        }
        return p;
    }
}
