package dev.lorastream.schemas;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One filled-in record of each event type, with optional fields set, for serde tests. */
public final class SampleEvents {
    public static final Instant AT = Instant.ofEpochMilli(1_790_000_000_123L);

    private SampleEvents() {}

    public static InferenceRequest request() {
        return InferenceRequest.newBuilder()
                .setRequestId("req-1")
                .setTenant("clinic-a")
                .setAdapterId("dermatology")
                .setPrompt("Describe the lesion")
                .setPromptTokenIds(List.of(1, 2, 3))
                .setParams(GenerationParams.newBuilder().setMaxNewTokens(16).setTemperature(0.7f).setSeed(42L).build())
                .setReplyTopic("replies.clinic-a")
                .setDeadlineMs(AT.plusSeconds(30))
                .setSubmittedAtMs(AT)
                .setAttributes(Map.of("trace", "abc"))
                .build();
    }

    public static InferenceResponse response() {
        return InferenceResponse.newBuilder()
                .setRequestId("req-1")
                .setTenant("clinic-a")
                .setAdapterId("dermatology")
                .setStatus(ResponseStatus.ERROR)
                .setTokenIds(List.of(7, 8))
                .setPromptTokens(3)
                .setCompletionTokens(2)
                .setError(ErrorInfo.newBuilder().setCode("PROMPT_TOO_LONG").setField("prompt").setMessage("too long").build())
                .setTimings(Timings.newBuilder().setQueueMs(1).setPrefillMs(2).setDecodeMs(3).setTotalMs(6).build())
                .setWorkerId("worker-0")
                .setCompletedAtMs(AT)
                .setAttributes(Map.of("trace", "abc"))
                .build();
    }

    public static AttributionEvent attribution() {
        return AttributionEvent.newBuilder()
                .setEventId("evt-1")
                .setRequestId("req-1")
                .setTenant("clinic-a")
                .setAdapterId("cardiology")
                .setAdapterVersion("1.0.0")
                .setBaseModel("tiny-llama")
                .setPromptTokens(12)
                .setCompletionTokens(30)
                .setComputeMs(12.5)
                .setWorkerId("worker-0")
                .setServedAtMs(AT)
                .setContributors(List.of(new Contributor("alice", 0.75), new Contributor("bob", 0.25)))
                .build();
    }

    public static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setRequestId("req-9")
                .setSourceTopic("inference.requests")
                .setSourcePartition(2)
                .setSourceOffset(41L)
                .setOriginalKey(ByteBuffer.wrap("req-9".getBytes(StandardCharsets.UTF_8)))
                .setOriginalValue(ByteBuffer.wrap(new byte[]{1, 2, 3}))
                .setErrorCode("MALFORMED_RECORD")
                .setReason("not wire format")
                .setComponent("router")
                .setFailedAtMs(AT)
                .build();
    }

    public static WorkerStatus workerStatus() {
        return WorkerStatus.newBuilder()
                .setWorkerId("worker-0")
                .setHost("gpu-1")
                .setState("RUNNING")
                .setAssignedPartitions(List.of(0, 3))
                .setRunningRequests(2)
                .setWaitingRequests(5)
                .setFreeMemoryBytes(1L << 33)
                .setResidentAdapters(List.of("dermatology", "nutrition"))
                .setExecutionProvider("CUDA")
                .setBaseModel("tiny-llama")
                .setHeartbeatAtMs(AT)
                .build();
    }

    public static AdapterDescriptor adapterDescriptor() {
        return AdapterDescriptor.newBuilder()
                .setAdapterId("nutrition")
                .setVersion("2.1.0")
                .setBaseModel("tiny-llama")
                .setRank(8)
                .setTargetModules(List.of("q_proj", "v_proj"))
                .setSizeBytes(123_456L)
                .setLocation("file:/adapters/nutrition")
                .setContributors(List.of(new Contributor("carol", 1.0)))
                .setDescription("diet advice")
                .setUpdatedAtMs(AT)
                .build();
    }

    public static List<org.apache.avro.specific.SpecificRecord> all() {
        return List.of(request(), response(), attribution(), deadLetter(), workerStatus(), adapterDescriptor());
    }
}
