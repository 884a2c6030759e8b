package dev.lorastream.ingest.http.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiKeysTest {
    private static final String KEY_A = "lsk-alpha-key-for-tests", KEY_B = "lsk-beta-key-for-tests";

    private static ApiKeys parse(String... lines) { return ApiKeys.parse(List.of(lines), "keys"); }

    @Test
    void aKeyIsFoundByTheHashOfWhatTheCallerSendsNeverStoredItself() {
        ApiKeys keys = parse("# header", "", ApiKeys.hash(KEY_A) + " clinic-north models=dermatology,base rps=2.5 tpm=6000 admin # ops",
                ApiKeys.hash(KEY_B) + "   wellness-app");

        ApiKey a = keys.find(KEY_A).orElseThrow();
        assertThat(a.tenant()).isEqualTo("clinic-north");
        assertThat(a.models()).isEqualTo(Set.of("dermatology", "base"));
        assertThat(a.mayUse("dermatology")).isTrue();
        assertThat(a.mayUse("cardiology")).isFalse();
        assertThat(a.rps()).isEqualTo(2.5);
        assertThat(a.tpm()).isEqualTo(6000L);
        assertThat(a.admin()).isTrue();
        assertThat(a.line()).isEqualTo(3);
        ApiKey b = keys.find(KEY_B).orElseThrow();
        assertThat(b.mayUse("anything")).isTrue();
        assertThat(b.rps()).isNull();
        assertThat(b.admin()).isFalse();
        assertThat(keys.find("lsk-unknown")).isEmpty();
        assertThat(keys.find(ApiKeys.hash(KEY_A))).as("the hash is not a key").isEmpty();
        assertThat(keys.find("")).isEmpty();
    }

    @Test
    void newKeysAreDistinctUrlSafeAndHashToSha256Hex() {
        String key = ApiKeys.newKey();
        assertThat(key).startsWith(ApiKeys.KEY_PREFIX).hasSize(ApiKeys.KEY_PREFIX.length() + 43).matches("[A-Za-z0-9_-]+");
        assertThat(ApiKeys.newKey()).isNotEqualTo(key);
        assertThat(ApiKeys.hash("abc")).isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void limitsArePerTenantAndALineWithoutOneTakesItsTenants() {
        ApiKeys keys = parse(ApiKeys.hash(KEY_A) + " t rps=3", ApiKeys.hash(KEY_B) + " t tpm=100");

        assertThat(keys.find(KEY_B).orElseThrow().rps()).isEqualTo(3.0);
        assertThat(keys.find(KEY_A).orElseThrow().tpm()).isEqualTo(100L);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "lsk-plain-key tenant| line 1: 'lsk-plain-key' is not sha256:<64 hex digits>; the file holds hashes of keys, never keys",
            "sha256:abcd tenant| line 1: 'sha256:abcd' is not sha256",
            "HASH| line 1: expected 'sha256:<64 hex> <tenant>",
            "HASH ten ant| line 1: unknown attribute 'ant'",
            "HASH bad/tenant| line 1: tenant 'bad/tenant' is not 1 to 128",
            "HASH t rps=fast| line 1: rps=fast is not a number >= 0",
            "HASH t tpm=1.5| line 1: tpm=1.5 is not a whole number",
            "HASH t models=| line 1: models= needs '*' or a comma-separated list",
            "HASH t models=a,,b| line 1: model '' in models= is not a model name",
            "HASH t admin=yes| line 1: 'admin' takes no value",
            "HASH t rps=1 rps=2| line 1: rps= given twice"})
    void aBrokenLineIsRefusedNamingTheLineAndWhy(String line, String message) {
        String text = line.replace("HASH", ApiKeys.hash(KEY_A));
        String where = message.substring(0, message.indexOf(':')).strip(), why = message.substring(message.indexOf(':') + 1).strip();
        assertThatThrownBy(() -> parse(text)).isInstanceOf(KeyFileException.class)
                .hasMessageStartingWith("keys " + where + ": ").hasMessageContaining(why);
    }

    @Test
    void theSameHashTwiceAndContradictoryTenantLimitsAreRefusedNamingBothLines() {
        assertThatThrownBy(() -> parse(ApiKeys.hash(KEY_A) + " t", "#", ApiKeys.hash(KEY_A) + " u"))
                .isInstanceOf(KeyFileException.class).hasMessageContaining("line 3").hasMessageContaining("already on line 1");
        assertThatThrownBy(() -> parse(ApiKeys.hash(KEY_A) + " t rps=1", ApiKeys.hash(KEY_B) + " t rps=2"))
                .isInstanceOf(KeyFileException.class).hasMessageContaining("line 2: rps=2.0 contradicts rps=1.0 on line 1")
                .hasMessageContaining("limits are per tenant ('t')");
    }
}
