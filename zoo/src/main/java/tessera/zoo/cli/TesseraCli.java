package tessera.zoo.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tessera} command-line tool. {@code ./tessera test} is handled by the launcher script (runs Maven). */
@Command(name = "tessera", mixinStandardHelpOptions = true, version = "tessera 0.1.0",
        description = "Pure-Java CNN compute library: kernels, autograd, layers, model zoo.%n"
                + "  ./tessera test    runs the whole test suite (handled by the launcher)",
        subcommands = {CommandLine.HelpCommand.class, DemoCommand.class})
public final class TesseraCli implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        int code = new CommandLine(new TesseraCli()).execute(args);
        System.exit(code);
    }
}
