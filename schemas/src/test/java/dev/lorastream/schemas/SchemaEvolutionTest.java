package dev.lorastream.schemas;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Each schema that changed stays BACKWARD compatible with the versions before it: today's reader reads yesterday's records. */
class SchemaEvolutionTest {
    private static Schema history(String file) throws Exception {
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream("/history/" + file)) {
            return new Schema.Parser().parse(in);
        }
    }

    @Test
    void workerStatusReadsAVersion1HeartbeatWithTheNewFieldsAtTheirDefaults() throws Exception {
        SchemaTrust.ensure();
        Schema v1 = history("WorkerStatus-v1.avsc");
        SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(WorkerStatus.getClassSchema(), v1);
        assertThat(c.getType()).as(c.getDescription()).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);

        GenericRecord old = new GenericData.Record(v1);
        old.put("worker_id", "w1");
        old.put("host", "h");
        old.put("state", "RUNNING");
        old.put("assigned_partitions", List.of(0, 3));
        old.put("running_requests", 2);
        old.put("waiting_requests", 1);
        old.put("free_memory_bytes", 5L);
        old.put("resident_adapters", List.of("a"));
        old.put("execution_provider", "CPU");
        old.put("base_model", "m");
        old.put("heartbeat_at_ms", 1234L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(v1).write(old, enc);
        enc.flush();
        WorkerStatus read = new SpecificDatumReader<WorkerStatus>(v1, WorkerStatus.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        assertThat(read.getAssignedPartitions()).containsExactly(0, 3);
        assertThat(read.getBankSlots()).isZero();
        assertThat(read.getMaxRows()).isZero();
        assertThat(read.getDeviceAdapters()).isEmpty();
        assertThat(read.getSimulated()).isFalse();
    }

    /** Requests and responses written before logprobs and penalties existed are read by today's classes (the registry checks BACKWARD too). */
    @Test
    void requestsAndResponsesOfTheVersionBeforeLogprobsAndPenaltiesAreRead() throws Exception {
        SchemaTrust.ensure();
        for (var pair : List.of(List.of(InferenceRequest.getClassSchema(), history("InferenceRequest-v2.avsc")),
                List.of(InferenceResponse.getClassSchema(), history("InferenceResponse-v1.avsc")))) {
            SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(pair.get(0), pair.get(1));
            assertThat(c.getType()).as(c.getDescription()).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        }
        assertThat(GenerationParams.newBuilder().build().getLogprobs()).isEqualTo(-1);
        assertThat(GenerationParams.newBuilder().build().getPresencePenalty()).isZero();
    }
}
