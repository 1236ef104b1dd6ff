package tessera.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tessera} command-line tool. {@code ./tessera test} is handled by the launcher script (runs Maven). */
@Command(name = "tessera", mixinStandardHelpOptions = true, version = "tessera 0.1.0",
        description = "Pure-Java CNN compute library: kernels, autograd, layers, model zoo.%n"
                + "  ./tessera test    runs the whole test suite (handled by the launcher)",
        subcommands = {CommandLine.HelpCommand.class, DemoCommand.class, LayersCommand.class, SummaryCommand.class, TrainCommand.class, EvalCommand.class, InferCommand.class, BenchCommand.class, GradcheckCommand.class, VjpCommand.class, ExplainCommand.class, ServeCommand.class, LoadgenCommand.class, FuzzCommand.class})
public final class TesseraCli implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new TesseraCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // one line a user can act on; the stack trace only with -Dtessera.debug=true
            String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            cmd.getErr().println("tessera " + cmd.getCommandName() + ": error: " + tessera.memory.Messages.oneLine(msg));
            if (Boolean.getBoolean("tessera.debug")) e.printStackTrace(cmd.getErr());
            return 2;
        });
        cli.setParameterExceptionHandler((ex, a) -> {
            // picocli echoes the offending argument: keep it on one escaped line like every other error
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("tessera " + cmd.getCommandName() + ": error: " + tessera.memory.Messages.oneLine(ex.getMessage()));
            cmd.getErr().println("(./tessera " + (cmd == cli ? "" : cmd.getCommandName() + " ") + "--help lists the options)");
            return 2;
        });
        int code = cli.execute(args);
        System.exit(code);
    }
}
