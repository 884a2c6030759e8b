package dev.lorastream.worker;

import dev.lorastream.engine.InferenceEngine;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one worker until SIGTERM / Ctrl-C: opens the engine (ONNX Runtime backbone and adapters),
 * starts the {@link Worker} and, on shutdown, stops it after the batch in progress. Exits 2 on a
 * bad command line, 1 when the worker could not start or was fenced by a newer instance.
 */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (WorkerArgs.wantsHelp(args)) {
            System.out.println(WorkerArgs.USAGE);
            return;
        }
        WorkerConfig config;
        try {
            config = WorkerArgs.parse(args);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        int code = run(config);
        if (code != 0) System.exit(code);
    }

    /** Runs until the JVM is asked to stop or the worker ends on its own; returns the exit code. */
    static int run(WorkerConfig config) throws InterruptedException {
        CountDownLatch shutdownDone = new CountDownLatch(1);
        InferenceEngine engine = EngineFactory.open(config);
        Worker worker = new Worker(config, engine);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutdown requested; stopping worker {}", config.workerId());
            worker.close();
            engine.close();
            shutdownDone.countDown();
        }, "lorastream-worker-shutdown"));
        try {
            worker.start();
        } catch (IllegalStateException e) {
            log.error("{}", e.getMessage());
            return 1;
        }
        while (!worker.awaitStop(Duration.ofSeconds(1))) {
            // running until SIGTERM (the shutdown hook closes it) or until it ends on its own
        }
        if (shutdownDone.getCount() > 0 && worker.failure().isPresent()) {
            log.error("worker {} stopped: {}", config.workerId(), worker.failure().get().toString());
            return 1;
        }
        shutdownDone.await();
        return 0;
    }
}
