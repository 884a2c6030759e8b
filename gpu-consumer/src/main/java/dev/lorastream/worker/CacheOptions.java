package dev.lorastream.worker;

import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import picocli.CommandLine.Option;

/**
 * The adapter cache's options (./pipeline worker, demo and up; the worker's own main): the device and
 * host tiers and their eviction policy. Each sets one {@link WorkerConfig} key, which checks it.
 */
public final class CacheOptions implements SettingDefaults {
    @Option(names = "--adapter-device-bytes", paramLabel = "BYTES",
            description = "device tier of the adapter cache (bank slots at the maximum rank), bytes or e.g. 512KiB, 64MiB, 2GiB; "
                    + "0 = room for 8 adapters (default: ${DEFAULT-VALUE})")
    @Setting(CacheConfig.DEVICE_BYTES)
    String deviceBytes;

    @Option(names = "--adapter-host-bytes", paramLabel = "BYTES",
            description = "host-memory tier of the adapter cache, at least the device tier; 0 = 4 x the device tier (default: ${DEFAULT-VALUE})")
    @Setting(CacheConfig.HOST_BYTES)
    String hostBytes;

    @Option(names = "--adapter-eviction-policy", paramLabel = "lfu|lru",
            description = "eviction policy of both tiers: lfu (least frequently used, with aging) or lru (default: ${DEFAULT-VALUE})")
    @Setting(CacheConfig.EVICTION_POLICY)
    String evictionPolicy;

    @Override
    public String defaultOf(String key) { return WorkerConfig.defaultOf(key); }
}
