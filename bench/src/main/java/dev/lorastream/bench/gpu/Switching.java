package dev.lorastream.bench.gpu;

import dev.lorastream.bench.CacheCounters;
import dev.lorastream.bench.Percentiles;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.AdapterStore;
import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.adapters.cache.Tier;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.scheduler.ContinuousBatcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Item {@code switch} of the GPU benchmark ({@code --items switch}): adapter switching under high
 * concurrency on the real engine ({@link OnnxLoraEngine}). For every cell of working-set size
 * ({@code --switch-adapters 5,100,1000}) × concurrency ({@code --switch-concurrency 1,8,32,128,256}),
 * a closed loop keeps {@code C} requests outstanding through {@link OnnxLoraEngine#submit} and
 * measures each request's time to first token and its inter-token latencies, per the tier its
 * adapter was in when it was sent:
 * <ul>
 *   <li>{@code device}: already in the LoRA bank (no copy);</li>
 *   <li>{@code host}: only in the cache's host tier (parsed weights; placing it is one slot's
 *       host-to-device copy);</li>
 *   <li>{@code store}: in no tier (the adapter store's files: read, hashed, validated, packed on the
 *       engine's loader threads, then copied). The files are in the OS page cache (the benchmark
 *       drops no caches), so this is the store path without a disk read.</li>
 * </ul>
 *
 * <h2>How a request's tier is chosen</h2>
 * The item opens its own engine (after the main engine has closed) with {@code --switch-max-batch}
 * rows (default 128, so 256 concurrent requests queue, which is part of what is measured),
 * {@code --switch-slots} device slots (default 256), a host tier of {@code --switch-host-slots}
 * slots' bytes (default the device tier's: the least the cache allows; in float32 slot bytes of the
 * largest rank on every projection, so it holds about three times as many of these q,k,v,o
 * adapters) and LRU eviction ({@code --switch-eviction}), over a benchmark-side
 * {@link AdapterStore} of logical ids, each one a directory of the main benchmark's adapters: its
 * listing names one adapter (the bank's shape comes from it, and the start-up warm-up loads only
 * it), while every id of the item's namespace resolves. Requests take a tier in turn by
 * {@code --switch-mix D,H,S} (default 2,1,1: half device, a quarter host, a quarter store):
 * <ul>
 *   <li>device: an adapter drawn uniformly from the working set ({@code sw-w-0000..}, the first
 *       {@code W}). Before each cell the working set is placed on the device by one-token requests
 *       (all of it when {@code W ≤ slots − max batch}; else, before the first cell of that size, a
 *       uniform sample of that many); when {@code W} exceeds the bank, some of these requests find
 *       their adapter in the host tier or the store, and count there;</li>
 *   <li>host: a fresh id ({@code sw-h-…}) brought into host memory before the cell by
 *       {@link OnnxLoraEngine#validate} (which loads an adapter no tier holds) and never placed;</li>
 *   <li>store: a fresh id ({@code sw-s-…}) no tier has seen.</li>
 * </ul>
 * Each request counts in the tier its adapter was in at the moment it was sent, read from the
 * engine's own per-adapter counters ({@link AdapterMetrics}: on the device when its placements
 * outnumber its device evictions; in host memory when its loads outnumber its host evictions), so
 * the per-tier counts add up to the requests. {@code changed_in_flight} counts those whose adapter
 * moved while they were in flight (placed again, or loaded again), which makes their tier impure.
 *
 * <h2>How token times are taken</h2>
 * From the batcher's step listener ({@link ContinuousBatcher#addStepListener}, registered for the
 * measured part of each cell only): after every step it names the requests that got a token in it
 * (prefilled: their first; decoded: their next) and when its forward passes ended. A request's
 * TTFT = the end of the step that prefilled it − the time it was submitted (queueing, adapter load
 * and copy, prefill); its inter-token latencies are the gaps between the ends of the steps that
 * gave it its next tokens (one per step while it runs). This is the time a token exists on the
 * host, before any transport. Percentiles are nearest-rank over every request (TTFT) or every
 * token gap (ITL) of the tier. ({@code timeline.tokens_missing} counts requests whose tokens the
 * listener did not all see: 0 unless something is wrong.) The listener is a small, general
 * addition to the engine's scheduler made for this item: before it, the engine exposed no token
 * times, its logits observer brings every row's logits back each step (changing what is measured),
 * and polling {@link ContinuousBatcher#occupancy()} from another thread missed about one step in
 * seven of the tiny CPU model on a two-core machine.
 *
 * <h2>How much a cold adapter delays the others ({@code cold_delay})</h2>
 * Within the same run, each step's gap is the inter-token latency of every row it decoded (the
 * "others": every row already running; a joiner's first token is its TTFT, not an ITL). Steps are
 * classed by who joined: {@code store_join} (a store-tier request was admitted: its slot was
 * written and it was prefilled in this step), {@code warm_join} (only device- or host-tier
 * joiners), {@code no_join}; and, separately, by whether a store-tier request was waiting for its
 * load during the step ({@code store_pending}: its loader-thread work overlapped the step) or not.
 * Reported: the others' ITL p50/p99 per class (weighted by the rows each step decoded), and
 * {@code store_join_extra_ms}: the mean step gap of store-join steps minus that of warm-join steps
 * with the same number of joiners (so prefill size is matched), averaged over the store-join
 * steps that have a match — the extra a cold adapter's admission costs the rows beside it.
 *
 * <h2>Sizes and time</h2>
 * Requests per cell: {@code max(--switch-min-requests 64, --switch-rounds 3 × C)}, each
 * {@code --switch-prompt} (default {@code --prompt}, 128) prompt tokens and
 * {@code --switch-new-tokens 32} new tokens, EOS ignored. Estimate on an H200, Llama-3.2-1B shape,
 * fp16, from bench/results/h200-fused-2 (decode 1.9 ms/step at batch 1, 16.5 at 8, 17.7 at 32,
 * 27.5 at 128; prefill 6–100 ms) and the store loads of h200-many-adapters (30–60 ms each, two
 * loader threads): per working-set size about 5 s (C=1, 64 requests) + 5 s (C=8, 64) + 2.5 s
 * (C=32, 96) + 4 s (C=128, 384) + 8 s (C=256, 768: 128 rows, the rest queued) ≈ 25 s, so ≈ 75 s of
 * cells for the three sizes; plus the engine's open with CUDA graphs up to 128 rows (the decoder
 * graph is the main engine's, cached; ≈ 10–30 s), host-tier prefetches (≈ 1,000 loads, ≈ 25 s),
 * the working sets' warm-ups (≈ 15 s, most of it W=1000) and store loads overlapping the cells:
 * about 2.5–3 minutes for the item, 3–3.5 with the benchmark's own set-up (random model and
 * adapters written, the main engine opened once, which builds the decoder graph this engine then
 * finds cached), within the 6-minute budget. It is not in the default item list (the default run
 * is already long, its host script's time limits are set for it, and the report is written only
 * at the end): run it with {@code --items switch --profile-steps 0} (the profile is not an item
 * and runs unless its steps are 0). Host memory: the host tier fills to its capacity
 * ({@code switch-slots × float32 slot bytes}: 256 × 45 MB ≈ 11.5 GB for this shape) in the Java heap.
 */
final class Switching {
    private Switching() {}

    /** The tiers a request's adapter can be in when it is sent. */
    enum Where {
        DEVICE, HOST, STORE;

        String key() { return name().toLowerCase(Locale.ROOT); }
    }

    static final String PREFIX = "sw-";

    /** The item's sizes, from the benchmark's options. */
    record Options(int[] concurrency, int[] adapters, int promptLen, int newTokens, int[] mix, int minRequests, int rounds, int maxBatch,
                   int slots, int hostSlots, String eviction) {
        static Options parse(Map<String, String> o, int promptLen) {
            int slots = Integer.parseInt(o.getOrDefault("switch-slots", "256"));
            int[] mix = ints(o.getOrDefault("switch-mix", "2,1,1"));
            if (mix.length != 3 || Arrays.stream(mix).anyMatch(x -> x < 0) || Arrays.stream(mix).sum() == 0) {
                throw new IllegalArgumentException("--switch-mix takes three non-negative weights device,host,store, got " + o.get("switch-mix"));
            }
            return new Options(ints(o.getOrDefault("switch-concurrency", "1,8,32,128,256")), ints(o.getOrDefault("switch-adapters", "5,100,1000")),
                    Integer.parseInt(o.getOrDefault("switch-prompt", String.valueOf(promptLen))),
                    Integer.parseInt(o.getOrDefault("switch-new-tokens", "32")), mix,
                    Integer.parseInt(o.getOrDefault("switch-min-requests", "64")), Integer.parseInt(o.getOrDefault("switch-rounds", "3")),
                    Integer.parseInt(o.getOrDefault("switch-max-batch", "128")), slots,
                    Integer.parseInt(o.getOrDefault("switch-host-slots", String.valueOf(slots))), o.getOrDefault("switch-eviction", "lru"));
        }

        int requests(int c) { return Math.max(minRequests, rounds * c); }

        /** The tiers in turn: the mix's weights spread out (2,1,1: device, host, store, device). */
        Where[] pattern() {
            List<Where> p = new ArrayList<>();
            int[] left = mix.clone();
            int total = Arrays.stream(mix).sum();
            double[] credit = new double[3];
            for (int i = 0; i < total; i++) {
                int best = -1;
                for (int t = 0; t < 3; t++) {
                    credit[t] += (double) mix[t] / total;
                    if (left[t] > 0 && (best < 0 || credit[t] > credit[best])) best = t;
                }
                credit[best] -= 1;
                left[best]--;
                p.add(Where.values()[best]);
            }
            return p.toArray(Where[]::new);
        }
    }

    static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).filter(x -> !x.isBlank()).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
    }

    /**
     * Logical adapter ids over a few real adapter directories: lists one id (the bank's shape is
     * read from it and the engine's start-up warm-up loads only it), resolves every id of the item's
     * namespace to one of the directories. A store that cannot list cheaply, as
     * {@link AdapterStore#contains} allows.
     */
    static final class Store implements AdapterStore {
        private final List<Path> pool;
        private final String listed;

        Store(List<Path> pool, String listed) {
            if (pool.isEmpty()) throw new IllegalArgumentException("no adapter directories for the switching store");
            this.pool = List.copyOf(pool);
            this.listed = listed;
        }

        @Override
        public List<String> ids() { return List.of(listed); }

        @Override
        public Path directory(String id) { return pool.get(Math.floorMod(id.hashCode(), pool.size())); }

        @Override
        public boolean contains(String id) { return id != null && id.startsWith(PREFIX) && id.length() > PREFIX.length() + 2; }

        @Override
        public String toString() { return "SwitchingStore[" + pool.size() + " directories, logical ids " + PREFIX + "*]"; }
    }

    /** The steps of one cell, as the batcher's step listener reports them (appended on the batcher's thread, read after the cell). */
    static final class StepLog implements java.util.function.Consumer<ContinuousBatcher.Step> {
        final List<ContinuousBatcher.Step> steps = new ArrayList<>();

        @Override
        public void accept(ContinuousBatcher.Step step) { steps.add(step); }
    }

    /** Runs the item; the {@code switching} object of the report. */
    static Map<String, Object> run(EngineConfig base, RandomModels.BackboneSpec spec, int rank, List<Path> pool, Options opt, Path out,
                                   Map<String, Object> report) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        int maxW = Arrays.stream(opt.adapters()).max().orElse(1);
        int kv = Math.max(base.kvCapacity(), opt.promptLen() + opt.newTokens() + 16);
        EngineConfig config = new EngineConfig(base.modelDir(), base.adapterDir(), base.executionProvider(), opt.maxBatch(), base.intraOpThreads(),
                base.cacheDir(), base.maxLoraRank(), Math.max(base.maxNewTokensLimit(), opt.newTokens()), base.tf32(), base.precision(),
                base.deviceTensors(), base.graph(), kv, base.cudaGraphs(), base.bankRank(), base.bankTargets());
        long slot32 = AdapterBank.slotBytes(ModelConfig.read(base.modelDir()), rank);
        CacheConfig cache = CacheConfig.ofBytes(slot32 * opt.slots(), slot32 * Math.max(opt.hostSlots(), opt.slots())).withPolicy(opt.eviction());
        List<String> ws = new ArrayList<>();
        for (int i = 0; i < maxW; i++) ws.add(String.format(Locale.ROOT, PREFIX + "w-%04d", i));
        Store store = new Store(pool.subList(0, Math.min(pool.size(), 64)), ws.getFirst());
        Map<String, Object> setup = new LinkedHashMap<>();
        m.put("setup", setup);
        setup.put("max_batch", opt.maxBatch());
        setup.put("device_slots", opt.slots());
        setup.put("host_tier_bytes", slot32 * Math.max(opt.hostSlots(), opt.slots()));
        setup.put("eviction", opt.eviction());
        setup.put("mix_device_host_store", opt.mix());
        setup.put("pattern", Arrays.stream(opt.pattern()).map(Where::key).toList());
        setup.put("prompt_tokens", opt.promptLen());
        setup.put("new_tokens", opt.newTokens());
        setup.put("requests_per_cell", "max(" + opt.minRequests() + ", " + opt.rounds() + " x concurrency)");
        setup.put("adapter_directories", Math.min(pool.size(), 64));
        m.put("definitions", definitions());
        long t0 = System.nanoTime();
        List<Map<String, Object>> cells = new ArrayList<>();
        m.put("cells", cells);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(config, cache, store)) {
            setup.put("engine_open_ms", GpuCheck.ms(System.nanoTime() - t0));
            setup.put("graph", engine.graphChoice().reason());
            setup.put("bank_slots", engine.status().bank().slots() - 1);
            System.out.println("bench: switching engine open in " + setup.get("engine_open_ms") + " ms, " + opt.maxBatch() + " rows, "
                    + opt.slots() + " device slots, " + setup.get("graph"));
            engine.submit(task("sw-start", ws.getFirst(), new int[] {spec.bosId()}, 1)).join(); // starts the batcher's loop
            int[] counters = new int[2]; // next host spare, next store spare
            int cellNo = 0;
            for (int w : opt.adapters()) {
                boolean firstOfSize = true;
                for (int c : opt.concurrency()) {
                    long c0 = System.nanoTime();
                    Map<String, Object> cell = cell(engine, spec, opt, ws.subList(0, w), c, cellNo++, firstOfSize, counters);
                    firstOfSize = false;
                    cell.put("cell_ms_with_preparation", GpuCheck.ms(System.nanoTime() - c0));
                    cells.add(cell);
                }
            }
        }
        setup.put("item_ms", GpuCheck.ms(System.nanoTime() - t0));
        List<String> plots = new ArrayList<>();
        m.put("plots", plots);
        try {
            com.fasterxml.jackson.databind.JsonNode node = GpuCheck.JSON.valueToTree(Map.of("switching", m));
            for (String[] p : new String[][] {{"ttft_p50_ms", "gpu-switch-ttft.png"}, {"itl_p99_ms", "gpu-switch-itl.png"}}) {
                Path file = out.resolve(p[1]);
                Plot.switching(node, file, p[0], spec.name() + ", " + base.precision() + ", " + base.executionProvider() + ": " + Plot.switchingTitle(p[0]));
                plots.add(file.getFileName().toString());
            }
        } catch (Exception | Error e) {
            m.put("plot_error", String.valueOf(e)); // no fonts on a bare host: the JSON still has everything; plot it elsewhere
        }
        return m;
    }

    static Map<String, Object> definitions() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("tier", "where the request's adapter was when it was sent, from the engine's per-adapter counters: device (in the LoRA bank), "
                + "host (only in the host tier), store (in no tier: read, validated, packed, copied)");
        d.put("ttft", "end of the step that produced the request's first token - the time it was submitted (queueing, load, copy, prefill)");
        d.put("itl", "gaps between the ends of consecutive steps that gave the request a token (one token per running row per step), pooled over the tier's requests");
        d.put("token_times", "from the batcher's step listener: the end of the forward passes of each step that gave the request a token");
        d.put("cold_delay", "others_itl_*: ITL of the rows a step decoded (every row already running), weighted by rows, in steps where a store-tier "
                + "request joined (store_join), only device/host-tier requests joined (warm_join), nobody joined (no_join); store_pending: a store-tier "
                + "request was waiting for its load during the step. store_join_extra_ms: mean gap of store-join steps - mean gap of warm-join steps "
                + "with the same number of joiners, averaged over the store-join steps with a match");
        return d;
    }

    private static GenerationTask task(String requestId, String adapter, int[] prompt, int newTokens) {
        return new GenerationTask(requestId, adapter, prompt, newTokens, 0f, 1f, 0, 1L, true);
    }

    static Where where(AdapterMetrics m, String id) {
        if (m.misses(Tier.DEVICE, id) > m.evictions(Tier.DEVICE, id)) return Where.DEVICE;
        if (m.loads(id) > m.evictions(Tier.HOST, id)) return Where.HOST;
        return Where.STORE;
    }

    /** Loads the adapters into host memory, a few at a time (the engine's loader threads do the work). */
    private static void prefetch(OnnxLoraEngine engine, List<String> ids, int[] prompt) throws Exception {
        if (ids.isEmpty()) return;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Object>> fs = new ArrayList<>();
            for (String id : ids) fs.add(pool.submit(() -> {
                engine.validate(task("sw-prefetch", id, prompt, 1));
                return null;
            }));
            for (Future<Object> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static Map<String, Object> cell(OnnxLoraEngine engine, RandomModels.BackboneSpec spec, Options opt, List<String> ws, int c, int cellNo,
                                            boolean firstOfSize, int[] counters) throws Exception {
        AdapterMetrics metrics = engine.metrics();
        int w = ws.size(), n = opt.newTokens(), requests = opt.requests(c);
        Where[] pattern = opt.pattern();
        Random rnd = new Random(1000L + cellNo);
        int[] shortPrompt = GpuBench.prompt(rnd, spec, Math.min(8, opt.promptLen()));
        // the working set on the device: one-token requests (their adapters loaded in parallel first)
        int cap = Math.max(1, opt.slots() - opt.maxBatch());
        List<String> warm = new ArrayList<>();
        if (w <= cap) warm.addAll(ws);
        else if (firstOfSize) {
            List<String> shuffled = new ArrayList<>(ws);
            java.util.Collections.shuffle(shuffled, rnd);
            warm.addAll(shuffled.subList(0, cap));
        }
        prefetch(engine, warm.stream().filter(id -> where(metrics, id) == Where.STORE).toList(), shortPrompt);
        for (int i = 0; i < warm.size(); i += opt.maxBatch()) {
            List<GenerationTask> batch = new ArrayList<>();
            for (String id : warm.subList(i, Math.min(warm.size(), i + opt.maxBatch()))) batch.add(task("sw-warm-" + id, id, shortPrompt, 1));
            engine.generate(batch);
        }
        // the host-tier requests' adapters: fresh ids, into host memory now, never on the device
        int hostCount = 0;
        for (int i = 0; i < requests; i++) if (pattern[i % pattern.length] == Where.HOST) hostCount++;
        List<String> hostIds = new ArrayList<>();
        for (int i = 0; i < hostCount; i++) hostIds.add(String.format(Locale.ROOT, PREFIX + "h-%06d", counters[0]++));
        prefetch(engine, hostIds, shortPrompt);
        List<int[]> prompts = new ArrayList<>(requests);
        for (int i = 0; i < requests; i++) prompts.add(GpuBench.prompt(rnd, spec, opt.promptLen()));
        int onDevice = (int) ws.stream().filter(id -> where(metrics, id) == Where.DEVICE).count();
        CacheCounters before = CacheCounters.parse(engine.prometheusText());
        System.gc(); // the preparation's garbage collected before the clock, not during it

        long[] submitted = new long[requests];
        String[] requestIds = new String[requests];
        Where[] at = new Where[requests], intended = new Where[requests];
        boolean[] changed = new boolean[requests];
        Throwable[] failed = new Throwable[requests];
        List<CompletableFuture<Generation>> futures = new ArrayList<>(requests);
        Semaphore permits = new Semaphore(c);
        StepLog log = new StepLog();
        engine.batcher().addStepListener(log);
        int nextHost = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            permits.acquireUninterruptibly();
            Where target = pattern[i % pattern.length];
            String id = switch (target) {
                case DEVICE -> ws.get(rnd.nextInt(w));
                case HOST -> hostIds.get(nextHost++);
                case STORE -> String.format(Locale.ROOT, PREFIX + "s-%06d", counters[1]++);
            };
            Where now = where(metrics, id);
            long placed0 = metrics.misses(Tier.DEVICE, id), loads0 = metrics.loads(id);
            intended[i] = target;
            at[i] = now;
            int k = i;
            requestIds[i] = "sw-" + cellNo + "-" + i;
            GenerationTask task = task(requestIds[i], id, prompts.get(i), n);
            submitted[i] = System.nanoTime();
            futures.add(engine.submit(task).whenComplete((g, e) -> {
                changed[k] = now == Where.DEVICE ? metrics.misses(Tier.DEVICE, id) > placed0 : now == Where.HOST && metrics.loads(id) > loads0;
                if (e != null) failed[k] = e;
                permits.release();
            }));
        }
        for (CompletableFuture<Generation> f : futures) {
            try {
                f.join();
            } catch (CompletionException e) {
                // recorded in failed[]
            }
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        engine.batcher().removeStepListener(log);
        for (int i = 0; i < requests; i++) {
            if (failed[i] != null) throw new IllegalStateException("switching request sw-" + cellNo + "-" + i + " failed: " + failed[i].getMessage(), failed[i]);
            Generation g = futures.get(i).join();
            if (g.tokenIds().length != n) throw new IllegalStateException(g.requestId() + " generated " + g.tokenIds().length + " tokens, expected " + n);
        }
        CacheCounters delta = CacheCounters.parse(engine.prometheusText()).minus(before);

        Map<String, Object> cell = analyse(log.steps, requestIds, submitted, at, changed, n);
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("adapters", w);
        head.put("concurrency", c);
        head.put("requests", requests);
        head.put("wall_ms", GpuCheck.round(wallMs));
        Map<String, Object> planned = new LinkedHashMap<>();
        for (Where t : Where.values()) planned.put(t.key(), Arrays.stream(intended).filter(x -> x == t).count());
        head.put("intended", planned);
        head.put("working_set_on_device_at_start", onDevice);
        head.putAll(cell);
        head.put("engine_counters", ManyAdapters.tiers(delta));
        System.out.printf(Locale.ROOT, "bench: switching %4d adapters, %3d concurrent: %s; cold delay %s; %.0f ms%n", w, c, brief(head), 
                ((Map<?, ?>) head.get("cold_delay")).get("store_join_extra_ms"), wallMs);
        return head;
    }

    private static String brief(Map<String, Object> cell) {
        StringBuilder b = new StringBuilder();
        Map<?, ?> tiers = (Map<?, ?>) cell.get("tiers");
        for (Where t : Where.values()) {
            Map<?, ?> x = (Map<?, ?>) tiers.get(t.key());
            b.append(t.key()).append(' ').append(x.get("count")).append(" ttft p50 ").append(x.get("ttft_p50_ms")).append(" itl p50 ").append(x.get("itl_p50_ms"))
                    .append(t == Where.STORE ? "" : ", ");
        }
        return b.toString();
    }

    /** Per tier TTFT and ITL, and the cold-delay figures, from the steps the listener saw and the requests' submit times. */
    static Map<String, Object> analyse(List<ContinuousBatcher.Step> log, String[] requestIds, long[] submitted, Where[] at, boolean[] changed, int n) {
        int steps = log.size(), requests = requestIds.length;
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < requests; i++) index.put(requestIds[i], i);
        long[] end = new long[steps];
        int[] first = new int[requests], tokens = new int[requests];
        Arrays.fill(first, -1);
        long[][] times = new long[requests][n];
        for (int k = 0; k < steps; k++) {
            ContinuousBatcher.Step s = log.get(k);
            end[k] = s.endNanos();
            for (String id : s.prefilled()) {
                Integer i = index.get(id);
                if (i == null) continue;
                first[i] = k;
                if (tokens[i] < n) times[i][tokens[i]++] = s.endNanos();
            }
            for (String id : s.decoded()) {
                Integer i = index.get(id);
                if (i != null && tokens[i] < n) times[i][tokens[i]++] = s.endNanos();
            }
        }
        int missing = 0;
        for (int i = 0; i < requests; i++) if (first[i] < 0 || tokens[i] != n) missing++;
        // per tier
        Map<Where, List<Double>> ttft = new LinkedHashMap<>(), itl = new LinkedHashMap<>();
        Map<Where, Integer> count = new LinkedHashMap<>(), moved = new LinkedHashMap<>();
        for (Where w : Where.values()) {
            ttft.put(w, new ArrayList<>());
            itl.put(w, new ArrayList<>());
            count.put(w, 0);
            moved.put(w, 0);
        }
        int[] joiners = new int[steps], storeJoiners = new int[steps], pendingDiff = new int[steps + 1];
        for (int i = 0; i < requests; i++) {
            Where w = at[i];
            count.merge(w, 1, Integer::sum);
            if (changed[i]) moved.merge(w, 1, Integer::sum);
            if (first[i] < 0) continue;
            ttft.get(w).add((times[i][0] - submitted[i]) / 1e6);
            for (int j = 1; j < tokens[i]; j++) itl.get(w).add((times[i][j] - times[i][j - 1]) / 1e6);
            joiners[first[i]]++;
            if (w == Where.STORE) {
                storeJoiners[first[i]]++;
                int from = 0;
                while (from < first[i] && end[from] <= submitted[i]) from++;
                if (from < first[i]) { // it waited for its load (and a row) during steps from .. first - 1
                    pendingDiff[from]++;
                    pendingDiff[first[i]]--;
                }
            }
        }
        Map<String, Object> tiers = new LinkedHashMap<>();
        for (Where w : Where.values()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("count", count.get(w));
            x.put("ttft_p50_ms", pct(ttft.get(w), 50));
            x.put("ttft_p99_ms", pct(ttft.get(w), 99));
            x.put("itl_p50_ms", pct(itl.get(w), 50));
            x.put("itl_p99_ms", pct(itl.get(w), 99));
            x.put("ttft_mean_ms", ttft.get(w).isEmpty() ? null : r3(ttft.get(w).stream().mapToDouble(Double::doubleValue).average().orElse(0)));
            x.put("itl_samples", itl.get(w).size());
            x.put("changed_in_flight", moved.get(w));
            tiers.put(w.key(), x);
        }
        // the others' ITL per step class: each row a step decoded, the gap since its previous token
        Map<String, List<Double>> byClass = new LinkedHashMap<>();
        Map<String, Integer> stepsByClass = new LinkedHashMap<>();
        for (String cl : List.of("store_join", "warm_join", "no_join", "store_pending", "no_store_pending")) {
            byClass.put(cl, new ArrayList<>());
            stepsByClass.put(cl, 0);
        }
        TreeMap<Integer, double[]> storeByJoiners = new TreeMap<>(), warmByJoiners = new TreeMap<>(); // joiners -> {sum of gaps ms, steps}
        long[] previous = new long[requests];
        for (int i = 0; i < requests; i++) previous[i] = first[i] < 0 ? 0 : times[i][0];
        int pending = 0;
        for (int k = 0; k < steps; k++) {
            pending += pendingDiff[k];
            List<Double> rows = new ArrayList<>();
            for (String id : log.get(k).decoded()) {
                Integer i = index.get(id);
                if (i == null) continue;
                rows.add((end[k] - previous[i]) / 1e6);
                previous[i] = end[k];
            }
            if (rows.isEmpty()) continue;
            String join = storeJoiners[k] > 0 ? "store_join" : joiners[k] > 0 ? "warm_join" : "no_join";
            String load = pending > 0 ? "store_pending" : "no_store_pending";
            for (String cl : List.of(join, load)) {
                stepsByClass.merge(cl, 1, Integer::sum);
                byClass.get(cl).addAll(rows);
            }
            if (joiners[k] > 0 && k > 0) {
                double gap = (end[k] - end[k - 1]) / 1e6;
                double[] s = (storeJoiners[k] > 0 ? storeByJoiners : warmByJoiners).computeIfAbsent(joiners[k], j -> new double[2]);
                s[0] += gap;
                s[1]++;
            }
        }
        Map<String, Object> cold = new LinkedHashMap<>();
        for (String cl : byClass.keySet()) {
            cold.put("others_itl_p50_ms_" + cl + "_steps", pct(byClass.get(cl), 50));
            cold.put("others_itl_p99_ms_" + cl + "_steps", pct(byClass.get(cl), 99));
            cold.put("steps_" + cl, stepsByClass.get(cl));
        }
        double extra = 0, weight = 0;
        for (Map.Entry<Integer, double[]> e : storeByJoiners.entrySet()) {
            double[] warm = warmByJoiners.get(e.getKey());
            if (warm == null) continue;
            extra += e.getValue()[1] * (e.getValue()[0] / e.getValue()[1] - warm[0] / warm[1]);
            weight += e.getValue()[1];
        }
        cold.put("store_join_extra_ms", weight == 0 ? null : r3(extra / weight));
        cold.put("store_join_extra_matched_steps", (int) weight);
        Double pend = (Double) cold.get("others_itl_p50_ms_store_pending_steps"), free = (Double) cold.get("others_itl_p50_ms_no_store_pending_steps");
        cold.put("store_pending_extra_p50_ms", pend == null || free == null ? null : r3(pend - free));
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("steps", steps);
        health.put("tokens_missing", missing);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tiers", tiers);
        m.put("cold_delay", cold);
        m.put("timeline", health);
        return m;
    }

    private static Double pct(List<Double> v, double p) {
        if (v.isEmpty()) return null;
        return r3(Percentiles.percentile(v.stream().mapToDouble(Double::doubleValue).toArray(), p));
    }

    private static double r3(double v) { return Math.round(v * 1000) / 1000.0; }
}
