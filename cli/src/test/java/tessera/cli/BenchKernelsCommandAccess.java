package tessera.cli;

/** Test access to the package-private parts of {@link BenchKernelsCommand}. */
public final class BenchKernelsCommandAccess {
    private BenchKernelsCommandAccess() {}

    public static String gemmKernel(String log) { return BenchKernelsCommand.gemmKernel(log); }
}
