package dev.lorastream.router.internal;

import dev.lorastream.router.Violation;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.DeadLetters;
import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;

import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/** Builds what the router writes for a refused record: the dead letter and the caller's error response. */
public final class Rejections {
    public static final String COMPONENT = "router";

    private Rejections() {}

    /** The first violation's reason, followed by the others' ("also ..."), so that one message says everything. */
    public static String reason(List<Violation> violations) {
        Violation first = violations.getFirst();
        if (violations.size() == 1) return first.reason();
        return first.reason() + "; also " + violations.subList(1, violations.size()).stream()
                .map(v -> (v.field() == null ? "" : v.field() + " ") + v.reason())
                .collect(Collectors.joining("; "));
    }

    public static DeadLetter deadLetter(SourceRecord source, String requestId, Violation primary, String reason, Instant at) {
        return DeadLetters.of(source.topic(), source.partition(), source.offset(), source.key(), source.value(), requestId,
                primary.code().name(), primary.field(), reason, COMPONENT, at);
    }

    /**
     * The caller's ERROR answer. Answering an oversized request it echoes neither its attributes nor a
     * long tenant or adapter id: the answer must fit where the request did not.
     */
    public static InferenceResponse errorResponse(InferenceRequest request, Violation primary, String reason, Instant at) {
        boolean tooLarge = primary.code() == dev.lorastream.schemas.ErrorCode.TOO_LARGE;
        return InferenceResponse.newBuilder()
                .setRequestId(request.getRequestId())
                .setTenant(tooLarge ? shortOrNull(request.getTenant()) : request.getTenant())
                .setAdapterId(tooLarge ? shortOrNull(request.getAdapterId()) : request.getAdapterId())
                .setStatus(ResponseStatus.ERROR)
                .setError(ErrorInfo.newBuilder()
                        .setCode(primary.code().name())
                        .setField(primary.field())
                        .setMessage(primary.field() == null ? reason : primary.field() + " " + reason)
                        .build())
                .setCompletedAtMs(at)
                .setAttributes(request.getAttributes() == null || tooLarge ? java.util.Map.of() : request.getAttributes())
                .build();
    }

    private static String shortOrNull(String s) { return s == null || s.length() > 256 ? null : s; }
}
