package dev.lorastream.bench.faults;

import dev.lorastream.ingest.ClientConfig;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open-loop callers of one scenario: Kafka callers (the ingest client, request ids of the
 * scenario's own) and HTTP callers (POST /v1/completions with the API key), each at a fixed rate.
 * Records every request's fate and the time of every answer (for the longest stall).
 */
final class Load implements AutoCloseable {
    private static final List<String> ADAPTERS = List.of("dermatology", "cardiology", "nutrition");
    static final Duration TIMEOUT = Duration.ofMinutes(4);

    private final String prefix;
    private final Deployment d;
    private final InferenceClient client;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Kafka requests acknowledged by the broker: id → their answer (null until it comes). */
    final Map<String, String> kafkaSent = new ConcurrentHashMap<>();
    final Map<String, String> kafkaAnswered = new ConcurrentHashMap<>();
    final AtomicInteger kafkaNotSent = new AtomicInteger();
    final AtomicInteger httpSent = new AtomicInteger();
    final AtomicInteger httpOk = new AtomicInteger();
    final Map<Integer, AtomicInteger> httpOther = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Long> answersAtNanos = new ConcurrentLinkedQueue<>();
    /** How long each answered caller waited, send to answer. */
    final ConcurrentLinkedQueue<Long> waitedNanos = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;
    private final AtomicInteger seq = new AtomicInteger();

    Load(String prefix, Deployment d) {
        this.prefix = prefix;
        this.d = d;
        this.client = new InferenceClient(ClientConfig.builder(d.bootstrap(), d.registryUrl()).defaultTimeout(TIMEOUT)
                .clientId(prefix + "-caller").build());
    }

    InferenceClient client() { return client; }

    void start(double kafkaPerSecond, double httpPerSecond) {
        running = true;
        threads.add(Thread.ofVirtual().name(prefix + "-kafka").start(() -> pace(kafkaPerSecond, this::sendKafka)));
        threads.add(Thread.ofVirtual().name(prefix + "-http").start(() -> pace(httpPerSecond, this::sendHttp)));
    }

    void stop() throws InterruptedException {
        running = false;
        for (Thread t : threads) t.join();
    }

    private void pace(double perSecond, Runnable send) {
        if (perSecond <= 0) return;
        long periodNanos = (long) (1e9 / perSecond);
        long next = System.nanoTime();
        while (running) {
            send.run();
            next += periodNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                try {
                    Thread.sleep(Duration.ofNanos(sleep));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void sendKafka() {
        int n = seq.incrementAndGet();
        InferenceRequest r = Requests.base(Deployment.TENANT, ADAPTERS.get(n % 3), 6).setRequestId(prefix + "-k" + n)
                .setPrompt("fault matrix question " + n).build();
        String id = r.getRequestId();
        kafkaSent.put(id, "");
        long sentAt = System.nanoTime();
        Thread.ofVirtual().start(() -> {
            try {
                InferenceResponse resp = client.submit(r, TIMEOUT).join();
                waitedNanos.add(System.nanoTime() - sentAt);
                kafkaAnswered.put(id, resp.getStatus() == ResponseStatus.OK ? "OK" : resp.getError().getCode());
                answersAtNanos.add(System.nanoTime());
            } catch (RuntimeException e) {
                String why = String.valueOf(e.getCause() == null ? e : e.getCause());
                // not acknowledged by the broker: the caller knows it was not taken (not a loss of the pipeline's)
                if (why.contains("could not publish")) {
                    kafkaNotSent.incrementAndGet();
                    kafkaSent.remove(id);
                } else {
                    kafkaSent.put(id, why);
                }
            }
        });
    }

    private void sendHttp() {
        int n = seq.incrementAndGet();
        String body = "{\"model\":\"" + ADAPTERS.get(n % 3) + "\",\"prompt\":\"fault matrix http " + n + "\",\"max_tokens\":6}";
        httpSent.incrementAndGet();
        HttpRequest req = HttpRequest.newBuilder(URI.create(d.httpUrl() + "/v1/completions")).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + d.apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long sentAt = System.nanoTime();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, e) -> {
            int code = e != null ? -1 : resp.statusCode();
            if (code == 200) {
                waitedNanos.add(System.nanoTime() - sentAt);
                httpOk.incrementAndGet();
                answersAtNanos.add(System.nanoTime());
            } else {
                httpOther.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
            }
        });
    }

    /** Kafka requests sent and not answered yet (plus HTTP calls still open). */
    int outstanding() {
        int http = httpSent.get() - httpOk.get() - httpOther.values().stream().mapToInt(AtomicInteger::get).sum();
        int kafka = 0;
        for (String id : kafkaSent.keySet()) if (!kafkaAnswered.containsKey(id) && kafkaSent.get(id).isEmpty()) kafka++;
        return kafka + http;
    }

    @Override
    public void close() { client.close(); }
}
