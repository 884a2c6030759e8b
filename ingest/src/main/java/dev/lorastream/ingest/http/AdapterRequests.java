package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lorastream.ingest.AdapterAdmin;
import dev.lorastream.schemas.AdapterDescriptor;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * vLLM's runtime adapter requests: {@code POST /v1/load_lora_adapter} with {@code lora_name} and
 * {@code lora_path} (a PEFT directory on this machine), {@code POST /v1/unload_lora_adapter} with
 * {@code lora_name}. Answers as vLLM does, in plain text; refusals are 400 naming the parameter
 * (404 for unloading an adapter there is none of).
 */
final class AdapterRequests {
    private static final Set<String> LOAD = Set.of("lora_name", "lora_path", "load_inplace"), UNLOAD = Set.of("lora_name", "lora_int_id");

    private AdapterRequests() {}

    /** The text of the 200 answer; throws {@link ApiError} when the request is refused. */
    static String handle(AdapterAdmin admin, boolean load, byte[] body) {
        ObjectNode o = CompletionParser.object(body);
        for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!(load ? LOAD : UNLOAD).contains(name)) throw ApiError.unknownParameter(name);
        }
        String name = text(o, "lora_name");
        if (!load) {
            if (!admin.remove(name)) throw ApiError.unknownAdapter(name);
            return "Success: LoRA adapter '" + name + "' removed successfully.";
        }
        String path = text(o, "lora_path");
        AdapterDescriptor d;
        try {
            d = admin.add(name, Path.of(path), Map.of(), null);
        } catch (AdapterAdmin.Refused e) {
            String param = switch (e.field()) {
                case "id" -> "lora_name";
                case "path" -> "lora_path";
                default -> e.field();
            };
            throw ApiError.adapterRefused(param, e.reason());
        } catch (java.nio.file.InvalidPathException e) {
            throw ApiError.adapterRefused("lora_path", "is not a path: " + e.getMessage());
        }
        return "Success: LoRA adapter '" + name + "' added successfully (version " + d.getVersion() + ").";
    }

    private static String text(ObjectNode o, String param) {
        JsonNode n = o.get(param);
        if (n == null || n.isNull()) throw ApiError.missing(param);
        if (!n.isTextual()) throw ApiError.invalidType(param, "a string");
        if (n.textValue().isBlank()) throw ApiError.empty(param);
        return n.textValue();
    }
}
