package tessera.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Idx;
import tessera.memory.io.TensorFormatException;

/** MNIST IDX files, raw and gzip: element type, rank and dimensions rewritten, data cut or extended, gzip re-wrapped. */
final class IdxTarget implements FuzzTarget {
    private final List<byte[]> seeds = new ArrayList<>();
    private final Path scratch;

    IdxTarget() {
        int[][] shapes = {{5}, {2, 3, 4}, {3, 7, 7}, {0}, {1, 1, 1, 1, 1}};
        for (int k = 0; k < shapes.length; k++) {
            try (Tensor t = Tensor.zeros(DType.U8, shapes[k])) {
                for (boolean gz : new boolean[] {false, true}) {
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    Idx.write(t, o, gz);
                    seeds.add(o.toByteArray());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        try {
            scratch = Files.createTempFile("tessera-fuzz-", ".idx");
            scratch.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String name() { return "idx"; }
    @Override public String extension() { return ".idx"; }
    @Override public List<byte[]> seeds() { return seeds; }
    @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(TensorFormatException.class); }

    @Override
    public void exercise(byte[] input) throws Exception {
        try (Tensor t = Idx.read(new ByteArrayInputStream(input))) {
            t.numel();
        }
        Files.write(scratch, input);
        try (Tensor t = Idx.read(scratch)) {
            t.numel();
        }
    }

    @Override
    public byte[] mutateStructure(byte[] in, Random rnd) {
        boolean gz = in.length >= 2 && in[0] == 0x1f && in[1] == (byte) 0x8b;
        byte[] raw = gz ? gunzip(in) : in;
        if (raw == null || raw.length < 4) return ByteMutations.mutate(in, rnd);
        byte[] c = raw.clone();
        int rank = c[3] & 0xff;
        switch (rnd.nextInt(7)) {
            case 0 -> c[2] = (byte) (int) NpyTarget.<Integer>pick(rnd, 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff);
            case 1 -> c[3] = (byte) (int) NpyTarget.<Integer>pick(rnd, 0, 1, 2, 3, 16, 17, 100, 255);
            case 2, 3 -> {
                if (rank == 0 || c.length < 4 + 4 * rank) return ByteMutations.mutate(in, rnd);
                int d = rnd.nextInt(rank);
                long v = ByteMutations.interestingLong(rnd);
                for (int i = 0; i < 4; i++) c[4 + 4 * d + i] = (byte) (v >>> (8 * (3 - i)));
            }
            case 4 -> c = rnd.nextBoolean() ? Arrays.copyOf(c, rnd.nextInt(c.length + 1)) : Arrays.copyOf(c, c.length + 1 + rnd.nextInt(100));
            case 5 -> { c[0] = (byte) rnd.nextInt(3); c[1] = (byte) rnd.nextInt(3); }
            default -> { // gzip the (possibly raw) data, then damage the compressed stream
                byte[] z = gzip(c);
                if (rnd.nextBoolean()) return Arrays.copyOf(z, rnd.nextInt(z.length));
                z[10 + rnd.nextInt(z.length - 10)] ^= (byte) (1 << rnd.nextInt(8));
                return z;
            }
        }
        return gz || rnd.nextInt(4) == 0 ? gzip(c) : c;
    }

    static byte[] gzip(byte[] b) {
        try {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            try (GZIPOutputStream z = new GZIPOutputStream(o)) {
                z.write(b);
            }
            return o.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] gunzip(byte[] b) {
        try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return z.readNBytes(1 << 20);
        } catch (IOException e) {
            return null;
        }
    }
}
