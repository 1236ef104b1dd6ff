package tessera.zoo.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Mini-batches of a dataset in a seeded shuffled order, gathered into two reusable off-heap buffers (no allocation
 * per batch). Optional seeded augmentation: random crop after zero padding, and horizontal flip.
 */
public final class BatchLoader implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ImageDataset data;
    private final int batch;
    private final Augmentation augmentation;
    private final Tensor x, y;
    private final int[] order;
    private SplittableRandom random;

    /**
     * Random crop after padding by {@code cropPadding} pixels of {@code padValue} (the normalized value of a black
     * pixel; 0 = off) and horizontal flip with probability 0.5.
     */
    public record Augmentation(int cropPadding, boolean horizontalFlip, float padValue) {
        public static final Augmentation NONE = new Augmentation(0, false, 0f);

        public boolean enabled() { return cropPadding > 0 || horizontalFlip; }
    }

    public BatchLoader(ImageDataset data, int batch, Augmentation augmentation) {
        if (batch < 1) throw new IllegalArgumentException("batch size " + batch + " must be >= 1");
        this.data = data;
        this.batch = batch;
        this.augmentation = augmentation;
        int[] s = data.sampleShape();
        x = Tensor.zeros(DType.F32, batch, s[0], s[1], s[2]);
        y = Tensor.zeros(DType.I64, batch);
        order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
    }

    /** Batches per epoch (the last one may be smaller). */
    public int batches() { return (data.size() + batch - 1) / batch; }

    /** Starts an epoch: shuffles with {@code seed} (or keeps the order when {@code shuffle} is false). */
    public void startEpoch(long seed, boolean shuffle) {
        random = new SplittableRandom(seed);
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (shuffle) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i]; order[i] = order[j]; order[j] = t;
            }
        }
    }

    /** Batch {@code b} of the current epoch: views [n, C, H, W] and [n] over the reusable buffers. */
    public Tensor[] batch(int b) {
        int start = b * batch, n = Math.min(batch, data.size() - start);
        int sz = data.sampleSize();
        for (int i = 0; i < n; i++) {
            int idx = order[start + i];
            if (augmentation.enabled()) augment(idx, i);
            else data.copySample(idx, x.segment(), (long) i * sz);
            y.set(data.label(idx), i);
        }
        return new Tensor[]{x.narrow(0, 0, n), y.narrow(0, 0, n)};
    }

    private void augment(int idx, int slot) {
        int[] s = data.sampleShape();
        int c = s[0], h = s[1], w = s[2];
        int p = augmentation.cropPadding();
        int dy = p > 0 ? random.nextInt(2 * p + 1) - p : 0;
        int dx = p > 0 ? random.nextInt(2 * p + 1) - p : 0;
        boolean flip = augmentation.horizontalFlip() && random.nextBoolean();
        MemorySegment dst = x.segment();
        long base = (long) slot * c * h * w;
        float pad = augmentation.padValue();
        for (int ch = 0; ch < c; ch++) {
            for (int yy = 0; yy < h; yy++) {
                int sy = yy + dy;
                for (int xx = 0; xx < w; xx++) {
                    int sx = (flip ? w - 1 - xx : xx) + dx;
                    float v = (sy < 0 || sy >= h || sx < 0 || sx >= w) ? pad : data.pixel(idx, ch, sy, sx);
                    dst.setAtIndex(F, base + ((long) ch * h + yy) * w + xx, v);
                }
            }
        }
    }

    @Override
    public void close() {
        x.close();
        y.close();
    }
}
