package dev.lorastream.ingest;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.Timings;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Responses and catalog entries as a worker and the catalog would write them. */
public final class TestResponses {
    static {
        SchemaTrust.ensure();
    }

    private TestResponses() {}

    public static InferenceResponse ok(InferenceRequest request, String text, List<Integer> tokenIds) {
        return InferenceResponse.newBuilder()
                .setRequestId(request.getRequestId())
                .setTenant(request.getTenant())
                .setAdapterId(request.getAdapterId())
                .setStatus(ResponseStatus.OK)
                .setText(text)
                .setTokenIds(tokenIds)
                .setPromptTokens(request.getPrompt() != null ? request.getPrompt().length() : request.getPromptTokenIds().size())
                .setCompletionTokens(tokenIds.size())
                .setFinishReason("length")
                .setTimings(new Timings(1L, 2L, 3L, 6L))
                .setWorkerId("test-worker")
                .setCompletedAtMs(Instant.now())
                .setAttributes(Map.of())
                .build();
    }

    public static InferenceResponse error(InferenceRequest request, String code, String field, String message) {
        return InferenceResponse.newBuilder()
                .setRequestId(request.getRequestId())
                .setTenant(request.getTenant())
                .setAdapterId(request.getAdapterId())
                .setStatus(ResponseStatus.ERROR)
                .setError(new ErrorInfo(code, field, message))
                .setWorkerId("test-worker")
                .setCompletedAtMs(Instant.now())
                .setAttributes(Map.of())
                .build();
    }

    public static AdapterDescriptor adapter(String id) {
        return AdapterDescriptor.newBuilder()
                .setAdapterId(id)
                .setVersion("v1")
                .setBaseModel("demo-backbone")
                .setRank(8)
                .setSizeBytes(1024)
                .setLocation("file:/adapters/" + id)
                .setDescription("adapter " + id)
                .setUpdatedAtMs(Instant.ofEpochSecond(1_700_000_000L))
                .build();
    }
}
