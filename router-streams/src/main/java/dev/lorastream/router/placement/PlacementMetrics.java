package dev.lorastream.router.placement;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The router's placement as Micrometer meters: {@code lorastream_router_placements_total{reason}}
 * (no_fleet: hashed because no worker reports) and the live workers placement saw last,
 * {@code lorastream_router_fleet_workers}.
 */
public final class PlacementMetrics {
    private final Map<LoadAwarePlacement.Reason, Counter> placed = new EnumMap<>(LoadAwarePlacement.Reason.class);
    private final AtomicInteger workers = new AtomicInteger();

    public PlacementMetrics(MeterRegistry registry) {
        for (LoadAwarePlacement.Reason r : LoadAwarePlacement.Reason.values()) {
            placed.put(r, Counter.builder("lorastream.router.placements").description("Requests placed, by why their worker was chosen")
                    .tag("reason", r.label()).register(registry));
        }
        Gauge.builder("lorastream.router.fleet.workers", workers, AtomicInteger::get)
                .description("Live workers with routed partitions, as placement saw them last").register(registry);
    }

    void placed(LoadAwarePlacement.Reason reason) { placed.get(reason).increment(); }

    void fleet(int live) { workers.set(live); }

    public double count(LoadAwarePlacement.Reason reason) { return placed.get(reason).count(); }
}
