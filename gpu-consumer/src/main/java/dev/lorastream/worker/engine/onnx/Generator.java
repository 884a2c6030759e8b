package dev.lorastream.worker.engine.onnx;

import ai.onnxruntime.OrtException;
import dev.lorastream.worker.engine.Generation;
import dev.lorastream.worker.engine.GenerationTask;
import dev.lorastream.worker.engine.lora.AdapterBank;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Generation for one batch: a shared prefill of the left-padded prompts, then decode steps with
 * the KV cache until every row has hit EOS or its max_new_tokens. Finished rows stay in the batch
 * as padding (masked) and produce nothing more.
 */
final class Generator {
    private final DecoderSession session;
    private final AdapterBank bank;
    private final int padId;
    private final Set<Integer> eosIds;

    Generator(DecoderSession session, AdapterBank bank, int padId, Set<Integer> eosIds) {
        this.session = session;
        this.bank = bank;
        this.padId = padId;
        this.eosIds = eosIds;
    }

    private static final class Row {
        final GenerationTask task;
        final Sampler sampler;
        final int[] out;
        int count;
        String finishReason;
        double computeNs;
        long decodeNs;

        Row(GenerationTask task) {
            this.task = task;
            this.sampler = new Sampler(task.temperature(), task.topP(), task.topK(), Sampler.seedFor(task.seed(), task.requestId()));
            this.out = new int[task.maxNewTokens()];
        }

        boolean active() { return finishReason == null; }
    }

    List<Generation> run(List<GenerationTask> tasks, LogitsObserver observer) throws OrtException {
        int batch = tasks.size();
        List<Row> rows = tasks.stream().map(Row::new).toList();
        int longest = tasks.stream().mapToInt(t -> t.promptIds().length).max().orElseThrow();
        int maxNew = tasks.stream().mapToInt(GenerationTask::maxNewTokens).max().orElseThrow();
        long[][] ids = new long[batch][longest];
        long[][] positions = new long[batch][longest];
        long[][] mask = new long[batch][longest];
        long[] slots = new long[batch];
        long promptTokens = 0;
        for (int b = 0; b < batch; b++) {
            int[] prompt = tasks.get(b).promptIds();
            int offset = longest - prompt.length;
            Arrays.fill(ids[b], padId);
            for (int k = 0; k < prompt.length; k++) {
                ids[b][offset + k] = prompt[k];
                positions[b][offset + k] = k;
                mask[b][offset + k] = 1;
            }
            slots[b] = bank.slotOf(tasks.get(b).adapterId());
            promptTokens += prompt.length;
        }

        long t0 = System.nanoTime();
        DecoderSession.Step step;
        try (KvCache empty = session.emptyCache(batch)) {
            step = session.run(ids, positions, mask, slots, empty, bank);
        }
        long prefillNs = System.nanoTime() - t0;
        for (Row r : rows) r.computeNs += (double) prefillNs * r.task.promptIds().length / promptTokens;
        KvCache cache = step.cache();
        try {
            accept(rows, step.logits(), 0, observer);
            long[][] fullMask = new long[batch][longest + maxNew];
            for (int b = 0; b < batch; b++) System.arraycopy(mask[b], 0, fullMask[b], 0, longest);
            int length = longest;
            for (int s = 1; rows.stream().anyMatch(Row::active); s++) {
                long[][] next = new long[batch][1];
                long[][] nextPos = new long[batch][1];
                List<Row> active = new ArrayList<>();
                for (int b = 0; b < batch; b++) {
                    Row r = rows.get(b);
                    if (r.active()) {
                        active.add(r);
                        next[b][0] = r.out[r.count - 1];
                        nextPos[b][0] = r.task.promptIds().length + r.count - 1;
                        fullMask[b][length] = 1;
                    } else {
                        next[b][0] = padId;
                        nextPos[b][0] = r.task.promptIds().length + r.count;
                    }
                }
                length++;
                long[][] stepMask = new long[batch][];
                for (int b = 0; b < batch; b++) stepMask[b] = Arrays.copyOf(fullMask[b], length);
                long ts = System.nanoTime();
                DecoderSession.Step decoded = session.run(next, nextPos, stepMask, slots, cache, bank);
                long stepNs = System.nanoTime() - ts;
                cache.close();
                cache = decoded.cache();
                for (Row r : active) {
                    r.computeNs += (double) stepNs / active.size();
                    r.decodeNs += stepNs;
                }
                accept(rows, decoded.logits(), s, observer);
            }
        } finally {
            cache.close();
        }
        List<Generation> results = new ArrayList<>(batch);
        for (Row r : rows) {
            results.add(new Generation(r.task.requestId(), Arrays.copyOf(r.out, r.count), r.finishReason,
                    prefillNs / 1_000_000, r.decodeNs / 1_000_000, r.computeNs / 1e6));
        }
        return results;
    }

    /** Chooses each active row's next token; finishes rows at EOS or their token limit. */
    private void accept(List<Row> rows, float[][] logits, int step, LogitsObserver observer) {
        for (int b = 0; b < rows.size(); b++) {
            Row r = rows.get(b);
            if (!r.active()) continue;
            observer.onLogits(b, step, logits[b]);
            int token = r.sampler.next(logits[b]);
            if (!r.task.ignoreEos() && eosIds.contains(token)) {
                r.finishReason = "eos";
                continue;
            }
            r.out[r.count++] = token;
            if (r.count == r.task.maxNewTokens()) r.finishReason = "length";
        }
    }
}
