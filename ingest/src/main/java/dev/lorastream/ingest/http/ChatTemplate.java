package dev.lorastream.ingest.http;

import java.util.List;

/** Renders the messages of a chat request into the single prompt the backbone completes. */
@FunctionalInterface
public interface ChatTemplate {

    String render(List<ChatMessage> messages);

    /** The default: role tags, see {@link RoleTagChatTemplate}. */
    static ChatTemplate roleTags() { return new RoleTagChatTemplate(); }
}
