package dev.lorastream.sink.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.ErrorCode;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Checks that a decoded event can be counted: an event id to key it by, no negative or
 * non-finite usage, and contributor shares in [0, 1] with each contributor named once.
 */
public final class EventValidator {
    private EventValidator() {}

    public static Optional<Decoded.Rejected> check(AttributionEvent e) {
        if (e.getEventId() == null || e.getEventId().isBlank()) return reject(e, "event_id", "event_id is empty");
        if (e.getPromptTokens() < 0) return reject(e, "prompt_tokens", "prompt_tokens is negative: " + e.getPromptTokens());
        if (e.getCompletionTokens() < 0) {
            return reject(e, "completion_tokens", "completion_tokens is negative: " + e.getCompletionTokens());
        }
        if (!Double.isFinite(e.getComputeMs()) || e.getComputeMs() < 0) {
            return reject(e, "compute_ms", "compute_ms must be a finite number >= 0, was " + e.getComputeMs());
        }
        Set<String> seen = new HashSet<>();
        for (Contributor c : e.getContributors()) {
            if (c.getContributorId() == null || c.getContributorId().isBlank()) {
                return reject(e, "contributors", "a contributor has an empty contributor_id");
            }
            if (!Double.isFinite(c.getShare()) || c.getShare() < 0 || c.getShare() > 1) {
                return reject(e, "contributors", "share of contributor " + c.getContributorId() + " must be in [0, 1], was " + c.getShare());
            }
            if (!seen.add(c.getContributorId())) {
                return reject(e, "contributors", "contributor " + c.getContributorId() + " is listed twice");
            }
        }
        return Optional.empty();
    }

    private static Optional<Decoded.Rejected> reject(AttributionEvent e, String field, String reason) {
        return Optional.of(new Decoded.Rejected(ErrorCode.MALFORMED_RECORD.name(), field, reason, e.getRequestId()));
    }
}
