package tessera.kernels.volume;

/**
 * How a grid of window positions samples a volume, per axis {@code a} of [D, H, W]: tap {@code t} of grid position
 * {@code g} reads volume index {@code g·strides[a] − padBegin[a] + t·dilations[a]}, {@code 0 ≤ t < kernel[a]};
 * indices outside {@code [0, volume[a])} are padding. A convolution samples its input (volume) on its output grid;
 * a transposed convolution scatters its input (grid) into its output (volume).
 */
record VolumeGeom(int[] volume, int[] grid, int[] kernel, int[] strides, int[] padBegin, int[] dilations) {
    long volumeSize() { return (long) volume[0] * volume[1] * volume[2]; }

    long gridSize() { return (long) grid[0] * grid[1] * grid[2]; }

    int taps() { return kernel[0] * kernel[1] * kernel[2]; }

    /** Volume index along axis {@code a} of grid position {@code g}, tap {@code t}. */
    int at(int a, int g, int t) { return g * strides[a] - padBegin[a] + t * dilations[a]; }

    /** First grid position along axis {@code a} whose tap {@code t} lands inside the volume. */
    int firstInside(int a, int t) {
        int off = t * dilations[a] - padBegin[a];
        return off >= 0 ? 0 : Math.min(grid[a], Math.ceilDiv(-off, strides[a]));
    }

    /** One past the last grid position along axis {@code a} whose tap {@code t} lands inside the volume. */
    int endInside(int a, int t) {
        int off = t * dilations[a] - padBegin[a];
        return Math.max(0, Math.min(grid[a], Math.ceilDiv(volume[a] - off, strides[a])));
    }
}
