package tessera.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Runs a command body; any failure becomes one line on stderr and exit status 1. */
final class CliErrors {
    interface Body {
        void run() throws Exception;
    }

    private CliErrors() {}

    static int run(String command, Body body) {
        try {
            body.run();
            return 0;
        } catch (NoSuchFileException e) {
            return fail(command, "file not found: " + e.getFile());
        } catch (UncheckedIOException e) {
            return fail(command, message(e.getCause()));
        } catch (IOException | RuntimeException e) {
            return fail(command, message(e));
        } catch (Exception e) {
            return fail(command, message(e));
        }
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        return tessera.memory.Messages.oneLine(m);
    }

    private static int fail(String command, String message) {
        System.err.println("tessera " + command + ": error: " + message);
        return 1;
    }
}
