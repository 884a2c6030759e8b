package dev.lorastream.launcher;

import com.sun.net.httpserver.HttpServer;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.EngineFactory;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The schema registry goes away while a response the client has never decoded is on its way (issue 11): the
 * client's reader used to skip the record it could not decode, and its caller never got an answer. Now it
 * waits for the registry and the caller gets its answer once the registry is back. The client reaches the real
 * registry through a proxy that the test turns off and on (503 while off).
 */
class RegistryOutageIT {
    @TempDir
    Path work;

    @Test
    void aResponseDecodedDuringARegistryOutageIsDeliveredWhenTheRegistryIsBack() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        String run = UUID.randomUUID().toString().substring(0, 8);
        AtomicBoolean down = new AtomicBoolean(false);
        AtomicInteger refused = new AtomicInteger();
        HttpServer proxy = proxy(URI.create(platform.schemaRegistryUrl()), down, refused);
        String proxied = "http://127.0.0.1:" + proxy.getAddress().getPort() + URI.create(platform.schemaRegistryUrl()).getPath();
        Connection direct = new Connection(bootstrap, platform.schemaRegistryUrl());
        WorkerConfig config = WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap,
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl(),
                WorkerConfig.GROUP_ID.name(), "outage-" + run,
                WorkerConfig.WORKER_ID.name(), "outage-" + run,
                WorkerConfig.ENGINE.name(), "sim",
                WorkerConfig.SIM_ADAPTERS.name(), "4",
                WorkerConfig.SIM_TIME_SCALE.name(), "100"));
        TopicReader.startGroupAtEnd(bootstrap, "outage-" + run, Topics.ROUTED);
        try (SimulatedEngine engine = (SimulatedEngine) EngineFactory.open(config);
             RouterApp router = Components.router(direct, work.resolve("router"));
             Worker worker = new Worker(config, engine);
             InferenceClient client = Components.client(new Connection(bootstrap, proxied))) {
            router.start();
            worker.start();
            CompletableFuture<InferenceResponse> answer = client.submit(Requests.text("acme", null, "hello there", 24), Duration.ofSeconds(90));
            down.set(true); // the request is out (its schema id known); the response's schema was never fetched by this client
            await().atMost(Duration.ofSeconds(60)).until(() -> refused.get() > 0); // the reader tried to decode it during the outage
            Thread.sleep(5000); // longer than the registry client's own retries (5 attempts over 3 s)
            assertThat(answer).as("no answer while the registry is away").isNotDone();
            down.set(false);
            InferenceResponse response = answer.get(30, TimeUnit.SECONDS);
            assertThat(response.getStatus()).isEqualTo(ResponseStatus.OK);
        } finally {
            proxy.stop(0);
        }
    }

    /** Forwards to the registry, or answers 503 while {@code down}. */
    private static HttpServer proxy(URI target, AtomicBoolean down, AtomicInteger refused) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (down.get()) {
                    refused.incrementAndGet();
                    exchange.sendResponseHeaders(503, -1);
                    return;
                }
                byte[] body = exchange.getRequestBody().readAllBytes();
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.getScheme() + "://" + target.getAuthority() + exchange.getRequestURI()))
                        .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                String type = exchange.getRequestHeaders().getFirst("Content-Type");
                if (type != null) b.header("Content-Type", type);
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                r.headers().firstValue("Content-Type").ifPresent(v -> exchange.getResponseHeaders().set("Content-Type", v));
                exchange.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                if (r.body().length > 0) try (OutputStream out = exchange.getResponseBody()) { out.write(r.body()); }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        return server;
    }
}
