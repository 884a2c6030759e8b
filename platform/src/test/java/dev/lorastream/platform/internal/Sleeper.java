package dev.lorastream.platform.internal;

/** A main that waits forever: a stand-in for a parent process or a service in process tests. */
public final class Sleeper {
    private Sleeper() {}

    public static void main(String[] args) throws InterruptedException {
        System.out.println("sleeping");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
