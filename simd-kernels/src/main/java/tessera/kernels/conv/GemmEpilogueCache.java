package tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import tessera.kernels.ActivationFn;
import tessera.kernels.gemm.GemmEpilogue;

/**
 * The {@link GemmEpilogue}s a thread's convolutions hand to the GEMM, reused: an inference session passes the same
 * bias, activation and residual buffers on every run, so after the first run each epilogue is found here instead of
 * allocated (a new record per call would be a heap allocation per convolution, since the GEMM keeps it in its job).
 * A small per-thread ring of the last {@link #SIZE} distinct epilogues, compared field by field (segments by identity).
 */
final class GemmEpilogueCache {
    private GemmEpilogueCache() {}

    static final int SIZE = 64;

    private static final class Ring {
        final GemmEpilogue[] entries = new GemmEpilogue[SIZE];
        int next;
    }

    private static final ThreadLocal<Ring> RING = ThreadLocal.withInitial(Ring::new);

    /** {@code new GemmEpilogue(rowBias, rowBiasOffset, null, 0, act, residual, residualOffset, ld)}, or an equal cached one. */
    static GemmEpilogue of(MemorySegment rowBias, long rowBiasOffset, ActivationFn act, MemorySegment residual,
                           long residualOffset, int ld) {
        return of(rowBias, rowBiasOffset, null, 0, act, residual, residualOffset, ld);
    }

    /** {@code new GemmEpilogue(null, 0, colBias, colBiasOffset, act, null, 0, 0)}, or an equal cached one. */
    static GemmEpilogue ofColumnBias(MemorySegment colBias, long colBiasOffset, ActivationFn act) {
        return of(null, 0, colBias, colBiasOffset, act, null, 0, 0);
    }

    private static GemmEpilogue of(MemorySegment rowBias, long rowBiasOffset, MemorySegment colBias, long colBiasOffset,
                                   ActivationFn act, MemorySegment residual, long residualOffset, int ld) {
        Ring ring = RING.get();
        for (GemmEpilogue e : ring.entries) {
            if (e != null && e.rowBias() == rowBias && e.rowBiasOffset() == rowBiasOffset && e.colBias() == colBias
                    && e.colBiasOffset() == colBiasOffset && e.activation() == act
                    && e.residual() == residual && e.residualOffset() == residualOffset && e.ldResidual() == ld) {
                return e;
            }
        }
        GemmEpilogue e = new GemmEpilogue(rowBias, rowBiasOffset, colBias, colBiasOffset, act, residual, residualOffset, ld);
        ring.entries[ring.next] = e;
        ring.next = (ring.next + 1) % SIZE;
        return e;
    }
}
