package tessera.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.io.Npy;
import tessera.memory.io.TensorFormatException;

/** NumPy .npy files: the header dictionary is rewritten (shape, descr, fortran_order, keys, lengths, versions). */
final class NpyTarget implements FuzzTarget {
    private static final String[] DESCRS = {"<f4", "<f8", "<i4", "<i8", "|u1", "<u1", ">f4", "<f2", "|b1", "<c8", "O", "", "<f4<f4", "f4", "<f16", "|S8"};
    private final List<byte[]> seeds = new ArrayList<>();
    private final Path scratch;

    NpyTarget() {
        int[][] shapes = {{}, {0}, {3}, {2, 3}, {1, 2, 3, 2}, {4, 0, 2}};
        DType[] types = DType.values();
        for (int k = 0; k < shapes.length; k++) {
            try (Tensor t = Tensor.zeros(types[k % types.length], shapes[k])) {
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                Npy.write(t, o);
                seeds.add(o.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        try {
            scratch = Files.createTempFile("tessera-fuzz-", ".npy");
            scratch.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String name() { return "npy"; }
    @Override public String extension() { return ".npy"; }
    @Override public List<byte[]> seeds() { return seeds; }
    @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(TensorFormatException.class); }

    @Override
    public void exercise(byte[] input) throws Exception {
        try (Tensor t = Npy.read(new ByteArrayInputStream(input))) {
            t.numel();
        }
        Files.write(scratch, input);
        try (Tensor t = Npy.read(scratch)) {
            t.numel();
        }
    }

    @Override
    public byte[] mutateStructure(byte[] in, Random rnd) {
        if (in.length < 10 || in[0] != (byte) 0x93) return ByteMutations.mutate(in, rnd);
        int major = in[6] & 0xff;
        int pre = major == 1 ? 10 : 12;
        if (in.length < pre) return ByteMutations.mutate(in, rnd);
        long hlen = major == 1 ? (in[8] & 0xff) | (in[9] & 0xff) << 8 : (in[8] & 0xffL) | (in[9] & 0xffL) << 8 | (in[10] & 0xffL) << 16 | (in[11] & 0xffL) << 24;
        if (pre + hlen > in.length) return ByteMutations.mutate(in, rnd);
        String header = new String(in, pre, (int) hlen, StandardCharsets.ISO_8859_1);
        byte[] data = Arrays.copyOfRange(in, pre + (int) hlen, in.length);
        int newMajor = major;
        switch (rnd.nextInt(12)) {
            case 0, 1 -> header = header.replaceFirst("'shape': \\([^)]*\\)", "'shape': " + shape(rnd));
            case 2 -> header = header.replaceFirst("'descr': '[^']*'", "'descr': '" + DESCRS[rnd.nextInt(DESCRS.length)] + "'");
            case 3 -> header = header.replace("False", pick(rnd, "True", "1", "None", "'False'", "Fals"));
            case 4 -> header = header.replaceFirst(pick(rnd, "'descr': '[^']*', ", "'fortran_order': False, ", "'shape': \\([^)]*\\), "), "");
            case 5 -> header = header.replaceFirst("\\{", "{" + pick(rnd, "'descr': '<f8', ", "'shape': (1,), ", "'fortran_order': True, ", "'extra': 1, ", "'descr': {'a': (1, [2])}, "));
            case 6 -> header = header.replaceFirst("'shape'", pick(rnd, "'sha\npe'", "'shape\u0000'", "\"shape\"", "'shape\\x00'", "'\u001b[31mshape'"));
            case 7 -> { // change the length field without changing the header
                return withLength(in, pre, major, rnd.nextBoolean() ? ByteMutations.interestingLong(rnd) & 0xffffffffL : hlen + rnd.nextInt(9) - 4);
            }
            case 8 -> newMajor = pick(rnd, 1, 2, 3, 0, 4, 255);
            case 9 -> data = rnd.nextBoolean() ? Arrays.copyOf(data, rnd.nextInt(data.length + 1)) : Arrays.copyOf(data, data.length + 1 + rnd.nextInt(16));
            case 10 -> header = header.replace("}", "}" + pick(rnd, "x", "}", "\u0000\u0000junk", "{'a': 1}"));
            default -> header = header.replaceFirst("\\(", "(" + "(".repeat(rnd.nextInt(3) == 0 ? 10_000 : 1 + rnd.nextInt(5)));
        }
        return assemble(newMajor, header.getBytes(newMajor == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1), data);
    }

    private static String shape(Random rnd) {
        int rank = rnd.nextInt(8) == 0 ? 60 + rnd.nextInt(10) : rnd.nextInt(5);
        StringBuilder b = new StringBuilder("(");
        for (int k = 0; k < rank; k++) {
            String d = switch (rnd.nextInt(6)) {
                case 0 -> Long.toString(ByteMutations.interestingLong(rnd));
                case 1 -> "9".repeat(1 + rnd.nextInt(40));
                case 2 -> pick(rnd, "-1", "1L", "2.5", "'3'", "None", "1e9", "0x10");
                default -> Integer.toString(rnd.nextInt(5));
            };
            b.append(k == 0 ? "" : ", ").append(d);
        }
        if (rank == 1) b.append(',');
        return b.append(')').toString();
    }

    private static byte[] assemble(int major, byte[] header, byte[] data) {
        int pre = major == 1 ? 10 : 12;
        byte[] out = new byte[pre + header.length + data.length];
        out[0] = (byte) 0x93;
        System.arraycopy("NUMPY".getBytes(StandardCharsets.US_ASCII), 0, out, 1, 5);
        out[6] = (byte) major;
        for (int i = 0; i < pre - 8; i++) out[8 + i] = (byte) (header.length >>> (8 * i));
        System.arraycopy(header, 0, out, pre, header.length);
        System.arraycopy(data, 0, out, pre + header.length, data.length);
        return out;
    }

    private static byte[] withLength(byte[] in, int pre, int major, long len) {
        byte[] c = in.clone();
        for (int i = 0; i < pre - 8; i++) c[8 + i] = (byte) (len >>> (8 * i));
        return c;
    }

    @SafeVarargs
    static <T> T pick(Random rnd, T... options) { return options[rnd.nextInt(options.length)]; }
}
