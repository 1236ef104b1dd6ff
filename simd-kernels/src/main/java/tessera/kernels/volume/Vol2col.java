package tessera.kernels.volume;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * float32 column matrices of a volume ({@link VolumeGeom}): row {@code (c·kD + td)·kH·kW + th·kW + tw} holds, for
 * every grid position {@code (gd·gH + gh)·gW + gw}, the volume element that tap reads (0 in the padding), so a
 * convolution is one GEMM. {@link #gather} builds the matrix from {@code channels} contiguous [D, H, W] volumes;
 * {@link #scatterAdd} is its adjoint, adding every column entry back into the volume element it came from.
 */
final class Vol2col {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Vol2col() {}

    static void gather(VolumeGeom g, int channels, MemorySegment src, long srcOff, MemorySegment cols, long colOff) {
        walk(g, channels, src, srcOff, cols, colOff, false);
    }

    static void scatterAdd(VolumeGeom g, int channels, MemorySegment cols, long colOff, MemorySegment dst, long dstOff) {
        walk(g, channels, dst, dstOff, cols, colOff, true);
    }

    private static void walk(VolumeGeom g, int channels, MemorySegment vol, long volOff, MemorySegment cols, long colOff, boolean scatter) {
        int[] v = g.volume(), o = g.grid(), k = g.kernel();
        long gridSize = g.gridSize(), row = colOff;
        for (int c = 0; c < channels; c++) {
            long plane = volOff + c * g.volumeSize();
            for (int td = 0; td < k[0]; td++)
                for (int th = 0; th < k[1]; th++)
                    for (int tw = 0; tw < k[2]; tw++, row += gridSize) {
                        int wLo = g.firstInside(2, tw), wHi = g.endInside(2, tw);
                        for (int gd = 0; gd < o[0]; gd++) {
                            int id = g.at(0, gd, td);
                            for (int gh = 0; gh < o[1]; gh++) {
                                int ih = g.at(1, gh, th);
                                long col = row + ((long) gd * o[1] + gh) * o[2];
                                boolean inside = id >= 0 && id < v[0] && ih >= 0 && ih < v[1] && wLo < wHi;
                                if (!inside) {
                                    if (!scatter) cols.asSlice(col * 4, (long) o[2] * 4).fill((byte) 0);
                                    continue;
                                }
                                long line = plane + ((long) id * v[1] + ih) * v[2];
                                if (!scatter) {
                                    if (wLo > 0) cols.asSlice(col * 4, (long) wLo * 4).fill((byte) 0);
                                    if (wHi < o[2]) cols.asSlice((col + wHi) * 4, (long) (o[2] - wHi) * 4).fill((byte) 0);
                                }
                                int s = g.strides()[2];
                                long first = line + g.at(2, wLo, tw);
                                if (s == 1 && !scatter) {
                                    MemorySegment.copy(vol, first * 4, cols, (col + wLo) * 4, (long) (wHi - wLo) * 4);
                                    continue;
                                }
                                for (int gw = wLo; gw < wHi; gw++) {
                                    long at = first + (long) (gw - wLo) * s;
                                    if (scatter) vol.setAtIndex(F32, at, vol.getAtIndex(F32, at) + cols.getAtIndex(F32, col + gw));
                                    else cols.setAtIndex(F32, col + gw, vol.getAtIndex(F32, at));
                                }
                            }
                        }
                    }
        }
    }
}
