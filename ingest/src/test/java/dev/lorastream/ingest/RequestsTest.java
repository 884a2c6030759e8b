package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestsTest {

    @Test
    void textRequestCarriesAFreshIdAndTheGivenFields() {
        InferenceRequest request = Requests.text("acme", "cardiology", "heart?", 12);

        assertThat(request.getRequestId()).isNotBlank();
        assertThat(request.getTenant()).isEqualTo("acme");
        assertThat(request.getAdapterId()).isEqualTo("cardiology");
        assertThat(request.getPrompt()).isEqualTo("heart?");
        assertThat(request.getPromptTokenIds()).isNull();
        assertThat(request.getParams().getMaxNewTokens()).isEqualTo(12);
        assertThat(request.getParams().getTemperature()).isZero();
        assertThat(request.getSubmittedAtMs()).isNotNull();
        assertThat(Requests.text("acme", null, "x", 1).getRequestId()).isNotEqualTo(request.getRequestId());
    }

    @Test
    void tokenRequestCarriesTheIds() {
        InferenceRequest request = Requests.tokens("acme", null, List.of(1, 2, 3), 4);

        assertThat(request.getPrompt()).isNull();
        assertThat(request.getPromptTokenIds()).containsExactly(1, 2, 3);
        assertThat(request.getAdapterId()).isNull();
    }

    @Test
    void emptyPromptIsRefused() {
        assertThatThrownBy(() -> Requests.text("acme", null, "", 4)).hasMessageContaining("prompt");
    }

    @Test
    void maxNewTokensBelowOneIsRefused() {
        assertThatThrownBy(() -> Requests.text("acme", null, "x", 0)).hasMessageContaining("maxNewTokens");
    }

    @Test
    void blankTenantIsRefused() {
        assertThatThrownBy(() -> Requests.text(" ", null, "x", 1)).hasMessageContaining("tenant");
    }
}
