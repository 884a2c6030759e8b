package dev.lorastream.router;

import dev.lorastream.schemas.ErrorCode;

import java.util.Objects;

/**
 * One reason a record is refused: the field at fault as its snake_case Avro path (e.g.
 * {@code params.temperature}; null when no single field is to blame), the error code and a
 * sentence a caller can act on.
 */
public record Violation(String field, ErrorCode code, String reason) {
    public Violation {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() { return (field == null ? "" : field + ": ") + reason + " [" + code + "]"; }
}
