package dev.lorastream.schemas.cli;

import picocli.CommandLine.Option;

/**
 * The group-membership options every consumer-group component (worker, router, sink) takes, one
 * home for their names, keys and help; each component's configuration gives the defaults
 * ({@code schemas.ops.GroupMembership}).
 */
public final class MembershipOptions implements SettingDefaults {
    /** The configuration key of {@code --session-timeout-ms} in every component. */
    public static final String SESSION_TIMEOUT_MS = "session.timeout.ms";
    /** The configuration key of {@code --leave-group} in every component. */
    public static final String LEAVE_GROUP_ON_CLOSE = "group.leave.on.close";

    @Option(names = "--session-timeout-ms", paramLabel = "MS",
            description = "an instance that dies without leaving its consumer group loses its partitions after this, and the other "
                    + "instances take them (at least the broker's group.min.session.timeout.ms, 6000 by default) (default: ${DEFAULT-VALUE})")
    @Setting(SESSION_TIMEOUT_MS)
    String sessionTimeoutMs;

    @Option(names = "--leave-group", paramLabel = "true|false",
            description = "true: a stopped instance leaves its group and its partitions are handed over at once (scaling down); false: "
                    + "they stay reserved for it until the session timeout, for a restart in place without a rebalance (default: ${DEFAULT-VALUE})")
    @Setting(LEAVE_GROUP_ON_CLOSE)
    String leaveGroup;

    private final SettingDefaults defaults;

    /** With the defaults of the component's configuration (shown in the help). */
    public MembershipOptions(SettingDefaults defaults) { this.defaults = defaults; }

    public MembershipOptions() { this(key -> null); }

    @Override
    public String defaultOf(String key) { return defaults.defaultOf(key); }
}
