package dev.lorastream.ingest.http.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The API keys of the HTTP endpoint, read from the keys file's text: one key per line,
 * <pre>
 *   sha256:&lt;64 hex&gt;  &lt;tenant&gt;  [models=&lt;model&gt;,&lt;model&gt;...|*]  [rps=&lt;requests/s&gt;]  [tpm=&lt;tokens/min&gt;]  [admin]  [# comment]
 * </pre>
 * blank lines and lines starting with {@code #} ignored. A key is found by the SHA-256 of what the caller sends; the
 * keys themselves are never stored. Limits are per tenant: the lines of one tenant that give {@code rps=} (or
 * {@code tpm=}) must give the same value, and a line that gives none has its tenant's. Any other content is refused
 * with a {@link KeyFileException} naming the line.
 */
public final class ApiKeys {
    /** What {@link #newKey()} keys start with. */
    public static final String KEY_PREFIX = "lsk-";
    private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._@:-]{1,128}");
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, ApiKey> byHash;

    private ApiKeys(Map<String, ApiKey> byHash) { this.byHash = Map.copyOf(byHash); }

    public static final ApiKeys NONE = new ApiKeys(Map.of());

    /**
     * @param source the file's name, for messages
     * @throws KeyFileException naming the first line that is not a key line, or two lines that contradict each other
     */
    public static ApiKeys parse(List<String> lines, String source) {
        Map<String, ApiKey> byHash = new HashMap<>();
        Map<String, ApiKey> rpsOf = new HashMap<>(), tpmOf = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String text = lines.get(i);
            int comment = text.indexOf('#');
            String content = (comment >= 0 ? text.substring(0, comment) : text).strip();
            if (content.isEmpty()) continue;
            ApiKey key = line(content, number, source);
            ApiKey same = byHash.putIfAbsent(key.hash(), key);
            if (same != null) throw new KeyFileException(source, number, "the hash " + key.shortHash() + "... is already on line " + same.line());
            if (key.rps() != null) agree(rpsOf, key, key.rps(), "rps", source);
            if (key.tpm() != null) agree(tpmOf, key, key.tpm(), "tpm", source);
        }
        Map<String, ApiKey> filled = new HashMap<>();
        byHash.forEach((hash, k) -> {
            ApiKey rps = rpsOf.get(k.tenant()), tpm = tpmOf.get(k.tenant());
            filled.put(hash, new ApiKey(k.hash(), k.tenant(), k.models(), rps == null ? null : rps.rps(), tpm == null ? null : tpm.tpm(),
                    k.admin(), k.line()));
        });
        return new ApiKeys(filled);
    }

    private static void agree(Map<String, ApiKey> first, ApiKey key, Object value, String what, String source) {
        ApiKey earlier = first.putIfAbsent(key.tenant(), key);
        if (earlier == null) return;
        Object before = what.equals("rps") ? earlier.rps() : earlier.tpm();
        if (!before.equals(value)) {
            throw new KeyFileException(source, key.line(), what + "=" + value + " contradicts " + what + "=" + before + " on line " + earlier.line()
                    + ": limits are per tenant ('" + key.tenant() + "'), give every line of it the same one or leave it out");
        }
    }

    private static ApiKey line(String content, int number, String source) {
        String[] words = content.split("\\s+");
        if (words.length < 2) throw new KeyFileException(source, number, "expected 'sha256:<64 hex> <tenant> [models=...] [rps=N] [tpm=N] [admin]'");
        String hash = words[0].toLowerCase(java.util.Locale.ROOT);
        if (!HASH.matcher(hash).matches()) {
            throw new KeyFileException(source, number, "'" + abbreviate(words[0]) + "' is not sha256:<64 hex digits>; the file holds hashes of keys, never keys");
        }
        String tenant = words[1];
        if (!TENANT.matcher(tenant).matches()) {
            throw new KeyFileException(source, number, "tenant '" + abbreviate(tenant) + "' is not 1 to 128 of [A-Za-z0-9._@:-]");
        }
        Set<String> models = null;
        Double rps = null;
        Long tpm = null;
        boolean admin = false;
        for (int w = 2; w < words.length; w++) {
            String word = words[w];
            int eq = word.indexOf('=');
            String name = eq < 0 ? word : word.substring(0, eq), value = eq < 0 ? null : word.substring(eq + 1);
            switch (name) {
                case "admin" -> {
                    if (value != null) throw new KeyFileException(source, number, "'admin' takes no value");
                    admin = true;
                }
                case "models" -> {
                    if (models != null) throw new KeyFileException(source, number, "models= given twice");
                    models = models(value, number, source);
                }
                case "rps" -> {
                    if (rps != null) throw new KeyFileException(source, number, "rps= given twice");
                    rps = number(value, "rps", number, source);
                }
                case "tpm" -> {
                    if (tpm != null) throw new KeyFileException(source, number, "tpm= given twice");
                    double t = number(value, "tpm", number, source);
                    if (t != Math.rint(t)) throw new KeyFileException(source, number, "tpm=" + value + " is not a whole number of tokens");
                    tpm = (long) t;
                }
                default -> throw new KeyFileException(source, number, "unknown attribute '" + abbreviate(word) + "'; known: models=, rps=, tpm=, admin");
            }
        }
        return new ApiKey(hash, tenant, models == null ? Set.of() : models, rps, tpm, admin, number);
    }

    private static Set<String> models(String value, int number, String source) {
        if (value == null || value.isEmpty()) throw new KeyFileException(source, number, "models= needs '*' or a comma-separated list of models");
        if (value.equals("*")) return Set.of();
        Set<String> models = new LinkedHashSet<>();
        for (String m : value.split(",", -1)) {
            if (!MODEL.matcher(m).matches()) throw new KeyFileException(source, number, "model '" + abbreviate(m) + "' in models= is not a model name");
            models.add(m);
        }
        return models;
    }

    private static double number(String value, String name, int number, String source) {
        try {
            double v = Double.parseDouble(value == null ? "" : value);
            if (!(v >= 0) || Double.isInfinite(v)) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new KeyFileException(source, number, name + "=" + (value == null ? "" : abbreviate(value)) + " is not a number >= 0 (0: no limit)");
        }
    }

    private static String abbreviate(String s) { return s.length() <= 40 ? s : s.substring(0, 37) + "..."; }

    /** The key whose hash is that of {@code presented} (what follows {@code Bearer }), if any. */
    public Optional<ApiKey> find(String presented) {
        if (presented == null || presented.isEmpty() || byHash.isEmpty()) return Optional.empty();
        return Optional.ofNullable(byHash.get(hash(presented)));
    }

    public int size() { return byHash.size(); }

    /** The keys, in the order of their lines. */
    public List<ApiKey> keys() {
        List<ApiKey> keys = new ArrayList<>(byHash.values());
        keys.sort(java.util.Comparator.comparingInt(ApiKey::line));
        return keys;
    }

    /** {@code sha256:<hex>} of a key, as the keys file holds it. */
    public static String hash(String key) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** A fresh key: {@value #KEY_PREFIX} and 256 random bits, URL-safe base64. */
    public static String newKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
