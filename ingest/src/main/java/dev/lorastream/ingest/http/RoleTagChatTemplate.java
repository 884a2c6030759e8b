package dev.lorastream.ingest.http;

import java.util.List;

/**
 * A plain, model-agnostic chat template (the shape of Zephyr's, without special tokens): every
 * message becomes its role tag on a line of its own followed by its content and a newline, and
 * the prompt ends with the assistant's tag so that the model writes the next assistant turn.
 * <pre>
 * &lt;|system|&gt;
 * You are terse.
 * &lt;|user|&gt;
 * Hi
 * &lt;|assistant|&gt;
 * </pre>
 */
public final class RoleTagChatTemplate implements ChatTemplate {

    @Override
    public String render(List<ChatMessage> messages) {
        if (messages.isEmpty()) throw new IllegalArgumentException("a chat needs at least one message");
        StringBuilder prompt = new StringBuilder();
        for (ChatMessage m : messages) {
            prompt.append(tag(m.role())).append('\n').append(m.content()).append('\n');
        }
        return prompt.append(tag("assistant")).append('\n').toString();
    }

    private static String tag(String role) { return "<|" + role + "|>"; }
}
