package dev.lorastream.engine.model.tokenizer;

/**
 * Keeps DJL's Hugging Face tokenizers runtime local. Without these settings DJL, on first use,
 * probes the EC2 metadata endpoint and sends telemetry ({@code Ec2Utils.callHome}), and on a
 * machine with CUDA picks a CUDA build of its JNI library, which is not in the jar, and downloads
 * it. Offline mode and the CPU flavour make it load {@code native/lib/linux-x86_64/cpu/libtokenizers.so}
 * from the jar (copied once to DJL's cache dir, {@code ~/.djl.ai/tokenizers} or {@code DJL_CACHE_DIR}).
 * A setting already made by the user, as system property or environment variable, is left alone.
 */
final class DjlSettings {
    private static boolean applied;

    private DjlSettings() {}

    /** Sets the properties; call before the first DJL class is touched. */
    static synchronized void apply() {
        if (applied) return;
        setUnlessGiven("ai.djl.offline", "DJL_OFFLINE", "true");
        setUnlessGiven("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true");
        setUnlessGiven("RUST_FLAVOR", "RUST_FLAVOR", "cpu");
        applied = true;
    }

    private static void setUnlessGiven(String property, String env, String value) {
        if (System.getProperty(property) == null && System.getenv(env) == null) System.setProperty(property, value);
    }
}
