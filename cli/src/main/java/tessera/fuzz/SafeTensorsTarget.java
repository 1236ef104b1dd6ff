package tessera.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import tessera.layers.io.SafeTensors;
import tessera.layers.io.SafeTensorsFormatException;
import tessera.memory.DType;
import tessera.memory.Tensor;

/** Safetensors files: header JSON mutated (dtype, shape, data_offsets, names, metadata), length field and data section. */
final class SafeTensorsTarget implements FuzzTarget {
    private static final String[] NAMES = {"dtype", "shape", "data_offsets", "__metadata__", "w", "b", "F32", "F64", "I64", "U8", "BF16", "F16"};
    private final List<byte[]> seeds = new ArrayList<>();

    SafeTensorsTarget() {
        seeds.add(file(Map.of(), Map.of()));
        Map<String, Tensor> ts = new LinkedHashMap<>();
        ts.put("conv.weight", Tensor.zeros(DType.F32, 2, 1, 3, 3));
        ts.put("conv.bias", Tensor.zeros(DType.F64, 2));
        ts.put("bn.num_batches_tracked", Tensor.zeros(DType.I64));
        ts.put("labels", Tensor.zeros(DType.U8, 5));
        ts.put("idx", Tensor.zeros(DType.I32, 2, 0));
        seeds.add(file(ts, Map.of("tessera.spec", "{\"input\": [1, 28, 28]}", "format", "pt")));
        seeds.add(file(Map.of("x", ts.get("conv.weight")), Map.of()));
        for (Tensor t : ts.values()) t.close();
    }

    private static byte[] file(Map<String, Tensor> ts, Map<String, String> meta) { return SafeTensors.toBytes(ts, meta); }

    @Override public String name() { return "safetensors"; }
    @Override public String extension() { return ".safetensors"; }
    @Override public List<byte[]> seeds() { return seeds; }
    @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(SafeTensorsFormatException.class); }

    @Override
    public void exercise(byte[] input) {
        try (SafeTensors.Contents c = SafeTensors.read(input)) {
            c.tensors().size();
        }
    }

    @Override
    public byte[] mutateStructure(byte[] in, Random rnd) {
        if (in.length < 8) return ByteMutations.mutate(in, rnd);
        long n = ByteBuffer.wrap(in, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > in.length - 8) return ByteMutations.mutate(in, rnd);
        String header = new String(in, 8, (int) n, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(in, 8 + (int) n, in.length);
        switch (rnd.nextInt(8)) {
            case 0 -> { // length field only
                long v = rnd.nextBoolean() ? ByteMutations.interestingLong(rnd) : n + rnd.nextInt(9) - 4;
                byte[] c = in.clone();
                ByteBuffer.wrap(c, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
                return c;
            }
            case 1 -> data = rnd.nextBoolean() ? Arrays.copyOf(data, rnd.nextInt(data.length + 1)) : Arrays.copyOf(data, data.length + 1 + rnd.nextInt(64));
            case 2 -> header = header.replaceFirst("\\[(\\d+),(\\d+)\\]", "[" + ByteMutations.interestingLong(rnd) + "," + ByteMutations.interestingLong(rnd) + "]");
            case 3 -> header = header.replaceFirst("\"dtype\":\"[A-Z0-9]+\"", "\"dtype\":\"" + NAMES[6 + rnd.nextInt(6)] + "\"");
            default -> header = JsonMutations.mutate(header, rnd, NAMES);
        }
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[8 + h.length + data.length];
        ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
        System.arraycopy(h, 0, out, 8, h.length);
        System.arraycopy(data, 0, out, 8 + h.length, data.length);
        return out;
    }
}
