package tessera.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tessera.memory.io.TensorFormatException;

/** The engine's classification: what counts as accepted, a clear rejection, and a failure (saved as a reproducer). */
class FuzzerTest {
    @TempDir Path out;

    /** A reader with planted bugs chosen by the first byte of the input. */
    static final class Planted implements FuzzTarget {
        @Override public String name() { return "planted"; }
        @Override public String extension() { return ".bin"; }
        @Override public List<byte[]> seeds() { return List.of(new byte[] {0, 1, 2, 3}); }
        @Override public byte[] mutateStructure(byte[] in, Random rnd) { byte[] c = in.clone(); c[0] = (byte) rnd.nextInt(7); return c; }
        @Override public List<Class<? extends Throwable>> clearExceptions() { return List.of(TensorFormatException.class); }

        @Override
        public void exercise(byte[] in) throws Exception {
            switch (in.length == 0 ? 0 : in[0]) {
                case 1 -> throw new TensorFormatException("bad header");
                case 2 -> throw new NullPointerException();
                case 3 -> { int[] a = new int[1]; a[in.length] = 1; }
                case 4 -> throw new IllegalStateException("a plain unchecked exception is not the declared type");
                case 5 -> Thread.sleep(60_000);
                case 6 -> throw new TensorFormatException("x") {
                    @Override public String getMessage() { return "two\nlines"; } // bypasses the sanitizing constructor
                };
                default -> { }
            }
        }
    }

    private static Fuzzer.Kind kind(int first) {
        return Fuzzer.classify(new Planted(), new byte[] {(byte) first, 9}).kind();
    }

    @Test
    void classifiesAcceptedClearAndEverythingElseAsFailure() {
        assertEquals(Fuzzer.Kind.ACCEPTED, kind(0));
        assertEquals(Fuzzer.Kind.REJECTED, kind(1));
        assertEquals(Fuzzer.Kind.FAILURE, kind(2));
        assertEquals(Fuzzer.Kind.FAILURE, kind(3));
        assertEquals(Fuzzer.Kind.FAILURE, kind(4));
        assertEquals(Fuzzer.Kind.FAILURE, kind(6));
    }

    @Test
    void aHangIsATimeoutFailure() {
        Fuzzer f = new Fuzzer(new Planted(), 1, 200, null, System.err, false);
        Fuzzer.Outcome o = f.runOne(new byte[] {5});
        assertEquals(Fuzzer.Kind.FAILURE, o.kind());
        assertTrue(o.detail().startsWith("timeout"), o.detail());
        assertEquals(Fuzzer.Kind.ACCEPTED, f.runOne(new byte[] {0}).kind(), "a fresh worker runs the next case");
    }

    @Test
    void failuresAreCountedSavedAndReportedInTheClosingLine() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Fuzzer.Totals t = new Fuzzer(new Planted(), 3, 200, out, new PrintStream(log, true, StandardCharsets.UTF_8), false).run(40, 0);
        assertEquals(40, t.cases());
        assertEquals(t.cases(), t.accepted() + t.rejected() + t.failures());
        assertTrue(t.failures() > 0 && t.rejected() > 0, t.line());
        assertTrue(t.line().matches("fuzz planted: 40 cases, \\d+ accepted, \\d+ rejected with a clear error, \\d+ failures"), t.line());
        assertEquals(t.failures(), t.failureFiles().size());
        byte[] saved = Files.readAllBytes(Path.of(t.failureFiles().get(0)));
        assertTrue(saved.length > 0 && saved[0] >= 2, "the reproducer holds the failing input: " + Arrays.toString(saved));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(2 * t.failures(), files.count(), "input + description per failure");
        }
    }

    @Test
    void casesAreAPureFunctionOfTargetSeedAndIndex() {
        Fuzzer a = new Fuzzer(Fuzzer.target("npy"), 5, 1000, null, System.err, false);
        Fuzzer b = new Fuzzer(Fuzzer.target("npy"), 5, 1000, null, System.err, false);
        Fuzzer c = new Fuzzer(Fuzzer.target("npy"), 6, 1000, null, System.err, false);
        boolean differs = false;
        for (int i = 0; i < 20; i++) {
            assertTrue(Arrays.equals(a.input(i), b.input(i)));
            differs |= !Arrays.equals(a.input(i), c.input(i));
        }
        assertTrue(differs);
        assertFalse(Fuzzer.TARGETS.isEmpty());
    }
}
