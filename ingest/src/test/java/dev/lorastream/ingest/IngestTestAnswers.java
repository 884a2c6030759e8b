package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * What the {@link FakeWorker} of the integration tests answers, by prompt: {@code silent...} gets
 * nothing; {@code fail...} a BAD_PARAMETER error on temperature; {@code decoy...} first a response
 * for an id nobody asked for, then its own; {@code abort...} first an aborted response, then the
 * committed one; an adapter id starting {@code it-gone-} an UNKNOWN_ADAPTER error; anything else
 * {@code echo[adapter]: prompt}.
 */
public final class IngestTestAnswers {
    private IngestTestAnswers() {}

    public static List<InferenceResponse> answer(InferenceRequest request) {
        String prompt = request.getPrompt() != null ? request.getPrompt() : "ids" + request.getPromptTokenIds();
        if (prompt.startsWith("silent")) return List.of();
        if (prompt.startsWith("fail")) {
            return List.of(TestResponses.error(request, "BAD_PARAMETER", "params.temperature", "temperature is not allowed here"));
        }
        if (request.getAdapterId() != null && request.getAdapterId().startsWith("it-gone-")) {
            return List.of(TestResponses.error(request, "UNKNOWN_ADAPTER", "adapter_id", "adapter " + request.getAdapterId() + " cannot be loaded"));
        }
        List<InferenceResponse> out = new ArrayList<>();
        if (prompt.startsWith("decoy")) {
            out.add(TestResponses.ok(Requests.text("someone-else", null, "x", 1), "not yours", List.of(0)));
        }
        if (prompt.startsWith("abort")) {
            out.add(TestResponses.ok(request, FakeWorker.ABORTED_TEXT, List.of(0)));
        }
        String adapter = request.getAdapterId() == null ? "" : "[" + request.getAdapterId() + "]";
        out.add(TestResponses.ok(request, "echo" + adapter + ": " + prompt, List.of(1, 2, 3)));
        return out;
    }
}
