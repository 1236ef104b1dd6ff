package tessera.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuInfoTest {
    @Test
    void recordedAvx512MachineGivesModelCoresThreadsAndTheFlagsThatMatter() throws IOException {
        String text;
        try (InputStream in = getClass().getResourceAsStream("cpuinfo-epyc-avx512.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        CpuInfo c = CpuInfo.parse(text, 99);
        assertEquals("AMD EPYC", c.model());
        assertEquals(2, c.cores());
        assertEquals(2, c.threads());
        assertEquals(List.of("avx2", "avx512f", "fma"), c.isa()); // avx512dq, avx512vl... are not listed
    }

    @Test
    void hyperThreadsShareACore() {
        String two = """
                processor\t: 0
                model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
                physical id\t: 0
                core id\t\t: 0
                flags\t\t: fpu sse2 avx fma avx2
                
                processor\t: 1
                model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
                physical id\t: 0
                core id\t\t: 0
                flags\t\t: fpu sse2 avx fma avx2
                """;
        CpuInfo c = CpuInfo.parse(two, 2);
        assertEquals(1, c.cores());
        assertEquals(2, c.threads());
        assertEquals(List.of("avx2", "fma"), c.isa());
    }

    @Test
    void aarch64AsimdIsReportedAsNeonAndTheModelFallsBackToTheArch() {
        String arm = """
                processor\t: 0
                BogoMIPS\t: 243.75
                Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid
                CPU implementer\t: 0x41
                
                processor\t: 1
                Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid
                """;
        CpuInfo c = CpuInfo.parse(arm, 2);
        assertEquals(List.of("neon"), c.isa());
        assertEquals(2, c.threads());
        assertEquals(System.getProperty("os.arch") + " CPU", c.model());
    }
}
