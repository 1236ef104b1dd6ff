package tessera.onnx.infer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Assigns activation buffers to offsets of one block so that values whose lifetimes (first write to last read,
 * aliases included) do not overlap share memory: greedy by size, each buffer at the lowest 64-byte aligned offset
 * free during its whole lifetime (the approach of TFLite's arena planner). Returns the block size.
 */
final class MemoryPlanner {
    private MemoryPlanner() {}

    static long assign(List<Specialization.Value> values) {
        List<Specialization.Value> roots = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            Specialization.Value v = values.get(i);
            if (v.constant == null && v.root == i) roots.add(v);
        }
        roots.sort(Comparator.comparingLong(Specialization.Value::bytes).reversed());
        List<Specialization.Value> placed = new ArrayList<>();
        long peak = 0;
        for (Specialization.Value v : roots) {
            long size = align(v.bytes());
            List<long[]> busy = new ArrayList<>();
            for (Specialization.Value p : placed) {
                if (p.def <= v.lastUse && v.def <= p.lastUse) busy.add(new long[] {p.offset, p.offset + align(p.bytes())});
            }
            busy.sort(Comparator.comparingLong(a -> a[0]));
            long off = 0;
            for (long[] b : busy) {
                if (off + size <= b[0]) break;
                off = Math.max(off, b[1]);
            }
            v.offset = off;
            placed.add(v);
            peak = Math.max(peak, off + size);
        }
        return peak;
    }

    static long align(long bytes) { return Math.max(64, (bytes + 63) / 64 * 64); }
}
