package dev.lorastream.worker.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.ArrayList;
import java.util.List;

/** Everything one poll batch publishes, in order; written in one Kafka transaction with its offsets. */
public final class OutputBatch {
    private final List<ProducerRecord<String, SpecificRecord>> records = new ArrayList<>();
    private int responses;
    private int errors;
    private int attributions;
    private int deadLetters;

    public void response(String topic, InferenceResponse response) {
        records.add(new ProducerRecord<>(topic, response.getRequestId(), response));
        responses++;
        if (response.getError() != null) errors++;
    }

    public void attribution(String key, AttributionEvent event) {
        records.add(new ProducerRecord<>(Topics.ATTRIBUTION, key, event));
        attributions++;
    }

    public void deadLetter(DeadLetter deadLetter) {
        records.add(new ProducerRecord<>(Topics.DLQ, deadLetter.getRequestId(), deadLetter));
        deadLetters++;
    }

    /** Appends everything {@code other} holds, in its order. */
    public void addAll(OutputBatch other) {
        records.addAll(other.records);
        responses += other.responses;
        errors += other.errors;
        attributions += other.attributions;
        deadLetters += other.deadLetters;
    }

    public boolean isEmpty() { return records.isEmpty(); }

    public List<ProducerRecord<String, SpecificRecord>> records() { return List.copyOf(records); }

    public int responses() { return responses; }

    public int errorResponses() { return errors; }

    public int attributions() { return attributions; }

    public int deadLetters() { return deadLetters; }
}
