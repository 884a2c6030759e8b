package dev.lorastream.ingest.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoleTagChatTemplateTest {
    private final ChatTemplate template = ChatTemplate.roleTags();

    @Test
    void rendersEachMessageUnderItsRoleTagAndEndsWithTheAssistantTag() {
        String prompt = template.render(List.of(
                new ChatMessage("system", "You are terse."),
                new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "Hello."),
                new ChatMessage("user", "Bye")));

        assertThat(prompt).isEqualTo("<|system|>\nYou are terse.\n<|user|>\nHi\n<|assistant|>\nHello.\n<|user|>\nBye\n<|assistant|>\n");
    }

    @Test
    void singleUserMessage() {
        assertThat(template.render(List.of(new ChatMessage("user", "2+2?")))).isEqualTo("<|user|>\n2+2?\n<|assistant|>\n");
    }

    @Test
    void multiLineContentIsKeptAsIs() {
        assertThat(template.render(List.of(new ChatMessage("user", "a\nb")))).isEqualTo("<|user|>\na\nb\n<|assistant|>\n");
    }

    @Test
    void noMessagesIsRefused() {
        assertThatThrownBy(() -> template.render(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
