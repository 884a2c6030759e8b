package dev.lorastream.launcher;

import java.util.concurrent.CountDownLatch;

/** {@code ./pipeline up}: the stack until Ctrl-C (or SIGTERM), then a clean shutdown. */
final class UpCommand {
    private final StackSettings settings;

    UpCommand(StackSettings settings) { this.settings = settings; }

    int run() {
        CountDownLatch stopped = new CountDownLatch(1);
        Stack stack = Stack.start(settings, System.out);
        Thread hook = new Thread(() -> {
            System.out.println("up: shutting down...");
            stack.close();
            stopped.countDown();
        }, "pipeline-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("up: running; try  ./pipeline submit --bootstrap-servers " + stack.connection.bootstrapServers()
                + " --schema-registry " + stack.connection.schemaRegistryUrl() + " --adapter dermatology --prompt 'itchy rash'");
        System.out.println("up: Ctrl-C stops everything");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
