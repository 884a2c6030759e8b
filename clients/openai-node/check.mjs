// The official OpenAI Node client against a running lorastream endpoint.
// usage: node check.mjs BASE_URL ADAPTER   (BASE_URL like http://127.0.0.1:8000/v1)
// Prints one JSON line per call; exits 1 with the reason when an answer is not what OpenAI's API would give.
import OpenAI from "openai";

const [baseURL, adapter] = process.argv.slice(2);
if (!baseURL || !adapter) {
  console.error("usage: node check.mjs BASE_URL ADAPTER");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
const messages = [{ role: "user", content: "a rash that itches at night" }];
const fail = (why) => { console.error("FAIL: " + why); process.exit(1); };
const out = (o) => console.log(JSON.stringify(o));

// 1. chat, not streamed: the reference text
const plain = await client.chat.completions.create({ model: adapter, messages, max_tokens: 12, temperature: 0 });
const reference = plain.choices[0].message.content;
if (plain.object !== "chat.completion" || typeof reference !== "string") fail("chat: " + JSON.stringify(plain));
out({ call: "chat", content: reference, finish_reason: plain.choices[0].finish_reason, usage: plain.usage });

// 2. chat, streamed with the usage chunk: the same text (greedy), in pieces
const stream = await client.chat.completions.create({
  model: adapter, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let content = "", role = null, finish = null, usage = null, chunks = 0, contentChunks = 0, ids = new Set();
for await (const chunk of stream) {
  chunks++;
  ids.add(chunk.id);
  if (chunk.object !== "chat.completion.chunk") fail("chunk object " + chunk.object);
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta.role) role = choice.delta.role;
    if (choice.delta.content) { content += choice.delta.content; contentChunks++; }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
out({ call: "chat stream", content, role, finish_reason: finish, usage, chunks, content_chunks: contentChunks });
if (role !== "assistant") fail("no assistant role in the stream");
if (content !== reference) fail(`streamed content ${JSON.stringify(content)} is not the plain answer ${JSON.stringify(reference)}`);
if (!finish) fail("no finish_reason in the stream");
if (!usage || usage.completion_tokens !== plain.usage.completion_tokens) fail("usage chunk " + JSON.stringify(usage));
if (ids.size !== 1) fail("chunks carry several ids: " + [...ids]);

// 3. the stream helper of the SDK (events and the final message)
const runner = client.chat.completions.stream({ model: adapter, messages, max_tokens: 12, temperature: 0 });
let deltas = "";
runner.on("content", (delta) => { deltas += delta; });
const final = await runner.finalChatCompletion();
out({ call: "chat stream helper", content: final.choices[0].message.content, deltas });
if (final.choices[0].message.content !== reference || deltas !== reference) fail("stream helper text differs from the plain answer");

// 4. completions, streamed
const cstream = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 8, stream: true });
let text = "", cfinish = null;
for await (const chunk of cstream) {
  if (chunk.object !== "text_completion") fail("completion chunk object " + chunk.object);
  for (const choice of chunk.choices) {
    text += choice.text ?? "";
    if (choice.finish_reason) cfinish = choice.finish_reason;
  }
}
const cplain = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 8 });
out({ call: "completion stream", text, finish_reason: cfinish });
if (text !== cplain.choices[0].text) fail("streamed completion differs from the plain one");

// 5. stop: the text ends before the stop sequence, finish_reason "stop", streamed or not
const long = (await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 12 })).choices[0].text;
const stop = long.slice(4, 6);
const expected = long.slice(0, long.indexOf(stop));
const stopped = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 12, stop: [stop] });
let streamedStop = "", stopFinish = null;
for await (const chunk of await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 12, stop, stream: true })) {
  for (const choice of chunk.choices) { streamedStop += choice.text ?? ""; if (choice.finish_reason) stopFinish = choice.finish_reason; }
}
out({ call: "stop", stop, text: stopped.choices[0].text, finish_reason: stopped.choices[0].finish_reason, streamed: streamedStop, streamed_finish: stopFinish });
if (stopped.choices[0].text !== expected || stopped.choices[0].finish_reason !== "stop") fail("stop: " + JSON.stringify(stopped.choices[0]));
if (streamedStop !== expected || stopFinish !== "stop") fail("streamed stop: " + JSON.stringify(streamedStop) + " " + stopFinish);

// 6. logprobs: chat (content entries with top_logprobs, most likely first) and completions (the legacy shape)
const withLp = await client.chat.completions.create({ model: adapter, messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
const lpContent = withLp.choices[0].logprobs?.content;
if (!Array.isArray(lpContent) || lpContent.length !== withLp.usage.completion_tokens) fail("chat logprobs: " + JSON.stringify(withLp.choices[0].logprobs));
for (const t of lpContent) {
  if (typeof t.token !== "string" || !(t.logprob <= 0) || t.top_logprobs.length !== 3) fail("chat logprob entry " + JSON.stringify(t));
  if (t.top_logprobs[0].logprob < t.top_logprobs[1].logprob) fail("top_logprobs not most likely first: " + JSON.stringify(t));
  if (Math.abs(t.top_logprobs[0].logprob - t.logprob) > 1e-6 || t.top_logprobs[0].token !== t.token) fail("greedy token is not the most likely: " + JSON.stringify(t));
}
if (lpContent.map((t) => t.token).join("") !== withLp.choices[0].message.content) fail("logprob tokens do not spell the content");
const clp = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 5, logprobs: 2 });
const legacy = clp.choices[0].logprobs;
if (!legacy || legacy.tokens.length !== 5 || legacy.token_logprobs.length !== 5 || legacy.top_logprobs.length !== 5 || legacy.text_offset[0] !== 0)
  fail("completion logprobs: " + JSON.stringify(legacy));
out({ call: "logprobs", chat_tokens: lpContent.length, first: lpContent[0], completion: { tokens: legacy.tokens, token_logprobs: legacy.token_logprobs } });

// 7. n choices, indexed 0..n-1; greedy choices agree, sampled ones come back n times
const many = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 6, n: 3, temperature: 0 });
if (many.choices.length !== 3 || many.choices.map((c) => c.index).join() !== "0,1,2") fail("n: " + JSON.stringify(many.choices));
if (new Set(many.choices.map((c) => c.text)).size !== 1) fail("greedy choices differ: " + JSON.stringify(many.choices));
const sampled = await client.chat.completions.create({ model: adapter, messages, max_tokens: 6, n: 2, temperature: 1.0, seed: 5 });
if (sampled.choices.length !== 2 || sampled.usage.completion_tokens !== sampled.choices.length * 6) fail("n sampled: " + JSON.stringify(sampled));
out({ call: "n", texts: many.choices.map((c) => c.text), usage: many.usage, sampled: sampled.choices.map((c) => c.message.content) });

// 8. penalties: accepted, and a strong frequency penalty changes a greedy answer that repeats tokens
const base = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 16, temperature: 0 });
const penalised = await client.completions.create({ model: adapter, prompt: "itchy rash", max_tokens: 16, temperature: 0, frequency_penalty: 2, presence_penalty: 1 });
out({ call: "penalties", base: base.choices[0].text, penalised: penalised.choices[0].text });
if (penalised.choices[0].text === base.choices[0].text) fail("penalties changed nothing");
try {
  await client.completions.create({ model: adapter, prompt: "x", presence_penalty: 3 });
  fail("presence_penalty 3 was accepted");
} catch (e) {
  if (!(e instanceof OpenAI.BadRequestError) || e.param !== "presence_penalty") fail("presence_penalty 3: " + e);
}

// 9. an error inside a stream reaches the caller as an APIError
try {
  const bad = await client.chat.completions.create({ model: "no-such-adapter", messages, stream: true });
  for await (const _ of bad) { /* drain */ }
  fail("an unknown model was streamed");
} catch (e) {
  if (!(e instanceof OpenAI.APIError)) fail("unknown model: not an APIError: " + e);
  out({ call: "unknown model stream", status: e.status ?? null, message: e.message });
}
out({ ok: true });
