package dev.lorastream.platform.internal;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Runs inside a child JVM in front of its real main class, and ends that JVM when the parent process
 * is gone, so that a service (Apicurio Registry) never outlives a parent killed without running its
 * shutdown hooks (SIGKILL, a crashed test fork). Usage:
 * {@code java -cp <dir with this class>:<app> dev.lorastream.platform.internal.ParentWatch <parent pid> <main class> [args]}.
 *
 * <p>It has no dependencies and no nested classes: it is copied as one class file next to the
 * service's work directory, so that nothing else of this project reaches the child's class path.
 */
public final class ParentWatch {
    private static final long POLL_MILLIS = 1_000;
    private static final long EXIT_GRACE_MILLIS = 15_000;

    private ParentWatch() {}

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: ParentWatch <parent pid> <main class> [args...]");
            System.exit(2);
        }
        Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(args[0]));
        if (parent.isEmpty()) {
            System.err.println("parent process " + args[0] + " is gone: not starting " + args[1]);
            System.exit(3);
        }
        Thread watch = new Thread(() -> watch(parent.get()), "parent-watch");
        watch.setDaemon(true);
        watch.start();
        try {
            Class.forName(args[1]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void watch(ProcessHandle parent) {
        while (parent.isAlive()) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
        System.err.println("parent process " + parent.pid() + " is gone: shutting down");
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(EXIT_GRACE_MILLIS);
            } catch (InterruptedException ignored) {
                // halt now
            }
            Runtime.getRuntime().halt(1);
        }, "parent-watch-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }
}
