package dev.lorastream.engine;

/** A request the engine will not run, with an error code, the field at fault and the reason. */
public class InvalidTaskException extends Exception {
    private final String code;
    private final String field;

    public InvalidTaskException(String code, String field, String message) {
        super(message);
        this.code = code;
        this.field = field;
    }

    /** UNKNOWN_ADAPTER, ADAPTER_LOAD_FAILED, PROMPT_TOO_LONG, BAD_PARAMETER or INVALID_REQUEST. */
    public String code() { return code; }

    public String field() { return field; }
}
