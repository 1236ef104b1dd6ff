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

    /** A kernel that picked SPECIES_PREFERRED itself would escape the matrix (it stays 512-bit wide on AVX-512). */
    @Test
    void noKernelChoosesItsOwnPreferredSpecies() throws java.io.IOException {
        java.nio.file.Path src = java.nio.file.Path.of("src/main/java");
        java.util.List<String> offenders = new java.util.ArrayList<>();
        try (var files = java.nio.file.Files.walk(src)) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                if (p.getFileName().toString().equals("Species.java")) continue;
                for (String line : java.nio.file.Files.readAllLines(p)) {
                    String t = line.strip();
                    if (!t.startsWith("*") && !t.startsWith("//") && t.contains("SPECIES_PREFERRED")) offenders.add(p + ": " + t);
                }
            }
        }
        assertEquals(java.util.List.of(), offenders, "use tessera.kernels.Species.FLOAT / INT");
    }
}
