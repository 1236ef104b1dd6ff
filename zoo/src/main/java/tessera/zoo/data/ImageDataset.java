package tessera.zoo.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Labelled images held off-heap: {@code images} float32 [N, C, H, W] (already normalized), {@code labels} int64 [N].
 * Owns both tensors; {@link #close()} frees them.
 */
public final class ImageDataset implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Tensor images;
    private final Tensor labels;
    private final int classes;

    public ImageDataset(Tensor images, Tensor labels, int classes) {
        if (images.rank() != 4 || images.dtype() != DType.F32 || labels.rank() != 1 || labels.dtype() != DType.I64
                || labels.dim(0) != images.dim(0)) {
            throw new IllegalArgumentException("dataset needs images F32 [N,C,H,W] and labels I64 [N], got " + images + " and " + labels);
        }
        this.images = images;
        this.labels = labels;
        this.classes = classes;
    }

    public int size() { return images.dim(0); }
    public int classes() { return classes; }
    public Tensor images() { return images; }
    public Tensor labels() { return labels; }
    /** Per-sample shape [C, H, W]. */
    public int[] sampleShape() { return new int[]{images.dim(1), images.dim(2), images.dim(3)}; }
    public long label(int i) { return (long) labels.getDouble(i); }

    /** Floats per sample. */
    public int sampleSize() { return images.dim(1) * images.dim(2) * images.dim(3); }

    /** Copies sample {@code i} into {@code dst} at float offset {@code dstOffset}. */
    void copySample(int i, MemorySegment dst, long dstOffset) {
        long n = sampleSize();
        MemorySegment.copy(images.segment(), (images.offset() + i * n) * 4, dst, dstOffset * 4, n * 4);
    }

    float pixel(int i, int c, int y, int x) {
        long off = images.offset() + (((long) i * images.dim(1) + c) * images.dim(2) + y) * images.dim(3) + x;
        return images.segment().getAtIndex(F, off);
    }

    @Override
    public void close() {
        images.close();
        labels.close();
    }
}
