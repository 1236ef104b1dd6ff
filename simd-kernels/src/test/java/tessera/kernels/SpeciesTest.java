package tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The vector-width matrix: each surefire execution of this module says which width it means to test
 * ({@code -Dtessera.expect.vector.bits}); the kernels must really run on that width there.
 */
class SpeciesTest {
    @Test
    void kernelsRunOnTheWidthThisExecutionIsFor() {
        String expect = System.getProperty("tessera.expect.vector.bits", "");
        System.out.println("kernel species: " + Species.FLOAT + (Species.forced() ? " (forced by -Dtessera.vector.bits)" : " (preferred)"));
        if (!expect.isEmpty()) assertEquals(Integer.parseInt(expect), Species.FLOAT.vectorBitSize(), "species of this execution");
        assertEquals(Species.FLOAT.length(), Species.INT.length());
    }
}
