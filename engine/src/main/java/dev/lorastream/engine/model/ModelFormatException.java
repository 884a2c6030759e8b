package dev.lorastream.engine.model;

/** A model file (config.json, safetensors) that is malformed or does not fit the expected architecture. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) { super(message); }

    public ModelFormatException(String message, Throwable cause) { super(message, cause); }
}
