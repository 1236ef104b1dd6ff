package tessera.zoo.cli;

import picocli.CommandLine.Command;

/** The main job: trains LeNet-5 on the bundled MNIST subset and measures inference throughput. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Train LeNet-5 on bundled MNIST, then measure inference.")
public final class DemoCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("tessera demo: the training demo is not built yet; see README for what exists.");
    }
}
