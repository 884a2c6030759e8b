package dev.lorastream.worker.internal;

import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class TokenStreamsTest {
    /** A byte-level tokenizer: token id = one UTF-8 byte; an incomplete character decodes to U+FFFD. */
    private static final Function<int[], String> BYTES = ids -> {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return new String(b, StandardCharsets.UTF_8);
    };

    private final MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new Serializer<>() {
        @Override public byte[] serialize(String topic, String data) { return data.getBytes(StandardCharsets.UTF_8); }
    }, (topic, data) -> new byte[0]);

    @Test
    void tokensBecomeChunksInOrderAndACharacterSplitAcrossTokensWaitsForItsLastByte() {
        try (TokenStreams streams = new TokenStreams("w1", BYTES, producer, Clock.systemUTC())) {
            TokenStreams.Open open = streams.open("r1");
            byte[] text = "hé!".getBytes(StandardCharsets.UTF_8); // h, 0xC3 0xA9, !
            for (int i = 0; i < text.length; i++) {
                open.listener().onToken(i, text[i] & 0xff);
                int sent = i + 1;
                await().atMost(Duration.ofSeconds(5)).until(() -> tokensSent() == sent);
            }
            open.end().run();
            List<TokenChunk> chunks = chunks();
            assertThat(chunks).extracting(TokenChunk::getText).containsExactly("h", "", "é", "!");
            assertThat(chunks).extracting(TokenChunk::getTextOffset).containsExactly(0, 1, 1, 2);
            assertThat(chunks).extracting(TokenChunk::getTokenOffset).containsExactly(0, 1, 2, 3);
            assertThat(chunks).extracting(TokenChunk::getAttempt).containsOnly("w1#1");
            assertThat(producer.history()).extracting(ProducerRecord::topic).containsOnly(Topics.STREAM);
            assertThat(producer.history()).extracting(ProducerRecord::key).containsOnly("r1");
        }
    }

    @Test
    void aSecondAttemptStreamsAgainFromItsFirstTokenUnderANewAttemptId() {
        try (TokenStreams streams = new TokenStreams("w1", BYTES, producer, Clock.systemUTC())) {
            TokenStreams.Open first = streams.open("r1");
            first.listener().onToken(0, 'a');
            first.end().run();
            TokenStreams.Open second = streams.open("r1");
            second.listener().onToken(0, 'a');
            second.listener().onToken(1, 'b');
            second.end().run();
            await().atMost(Duration.ofSeconds(5)).until(() -> tokensSent() == 3);
            List<TokenChunk> chunks = chunks();
            assertThat(chunks.getFirst().getAttempt()).isEqualTo("w1#1");
            assertThat(chunks.stream().filter(c -> c.getAttempt().equals("w1#2")).map(TokenChunk::getText).reduce("", String::concat)).isEqualTo("ab");
            assertThat(chunks.stream().filter(c -> c.getAttempt().equals("w1#2")).mapToInt(TokenChunk::getTextOffset).min().orElseThrow()).isZero();
        }
    }

    @Test
    void anIncompleteCharacterAtTheEndIsSentAsItDecodes() {
        try (TokenStreams streams = new TokenStreams("w1", BYTES, producer, Clock.systemUTC())) {
            TokenStreams.Open open = streams.open("r2");
            open.listener().onToken(0, 'x');
            open.listener().onToken(1, 0xC3);
            open.end().run();
            await().atMost(Duration.ofSeconds(5)).until(() -> tokensSent() == 2);
            await().atMost(Duration.ofSeconds(5)).until(() -> String.join("", chunks().stream().map(TokenChunk::getText).toList()).equals("x\uFFFD"));
        }
    }

    private List<TokenChunk> chunks() {
        return producer.history().stream().map(r -> (TokenChunk) r.value()).toList();
    }

    private int tokensSent() {
        return chunks().stream().mapToInt(c -> c.getTokenIds().size()).sum();
    }
}
