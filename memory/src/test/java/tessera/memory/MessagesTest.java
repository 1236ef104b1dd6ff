package tessera.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.generators.SourceDSL;
import tessera.memory.io.Npy;
import tessera.memory.io.TensorFormatException;

class MessagesTest {
    @Test
    void escapesControlCharactersAndBoundsTheLength() {
        assertEquals("a\\nb\\rc\\td\\x00e\\x1b[31m\\x7f\\u2028", Messages.oneLine("a\nb\rc\td\u0000e\u001b[31m\u007f\u2028"));
        assertEquals("plain text stays", Messages.oneLine("plain text stays"));
        assertNull(Messages.oneLine(null));
        String cut = Messages.oneLine("x".repeat(5000));
        assertTrue(cut.startsWith("x".repeat(Messages.MAX_CHARS)) && cut.endsWith("… (4000 more characters)"), cut);
    }

    @Test
    void anyStringBecomesOneBoundedLine() {
        QuickTheory.qt().withExamples(300).forAll(SourceDSL.strings().allPossible().ofLengthBetween(0, 1500))
                .check(s -> Messages.isOneLine(Messages.oneLine(s)));
    }

    /** The example: a malformed .npy header echoed raw bytes, control characters and newlines included. */
    @Test
    void malformedNpyHeaderMessageIsOneLine() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'sha\u001b[2J\rpe': (2,), }\n";
        byte[] h = dict.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = new byte[10 + h.length];
        b[0] = (byte) 0x93;
        System.arraycopy("NUMPY".getBytes(StandardCharsets.US_ASCII), 0, b, 1, 5);
        b[6] = 1;
        b[8] = (byte) h.length;
        System.arraycopy(h, 0, b, 10, h.length);
        TensorFormatException e = org.junit.jupiter.api.Assertions.assertThrows(TensorFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(b)));
        assertTrue(Messages.isOneLine(e.getMessage()), e.getMessage());
        assertTrue(e.getMessage().contains("sha\\x1b[2J\\rpe"), e.getMessage());
    }
}
