// OpenLoRA end to end: a real node, a provider that trains (Ferdie) and another that serves
// (Charlie) what it never trained, and the official `openai` npm client pointed at the server.
// Two tiny-byte-gpt adapters and one SmolLM2-135M adapter are trained through ModelFactory and
// published; the serving provider fetches them from the trainer's blob store by their hashes,
// re-serves them, and answers completions and chats (streamed and whole), stop sequences, seeds,
// ensembles, log-probabilities, and every refusal: 400, 404, 413 and 429 with Retry-After.
// Every answer is paid: the client's API key is an `openledger key`, a signed spending
// authorisation of prepaid OPEN; the last tests follow the fees through settlement, a provider
// killed with answers unsettled, and each refusal of a key. Two contributors (Bob and Alice)
// hold the datanet's contributions; the SmolLM2 adapter learns a passage of each by heart, and
// its answers are traced to the contribution and the contributor the passage came from.
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, encodeAddress } from '@polkadot/util-crypto';
import OpenAI from 'openai';

import { accounts, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, cli, startProvider } from '../lib/provider.js';
import { publishedDatanet, splittingSeed, startTrainer } from '../lib/training.js';
import { waitFor } from '../lib/wait.js';

const MODEL_CACHE = process.env.MODEL_CACHE ?? join(homedir(), '.cache', 'openledger', 'models');

/** A passage of each contribution that no other text holds, for the model to learn by heart. */
const PASSAGES = [
  'The lighthouse keeper of Varn counts seventeen grey gulls on the northern rocks at every dawn.',
  'The miller of Ostrel grinds amber barley under a copper moon at the end of each autumn.',
  'The ferryman of Quell carries violet lanterns across the salt marsh every spring evening.',
  'The cartographer of Lume draws silver coastlines on goatskin maps through the winter nights.',
];
/** How many words of a passage the model is given; it answers with the rest. */
const OPENING = 5;

const contributions = Array.from({ length: 4 }, (_, i) =>
  [
    JSON.stringify({ text: `Datanet fact ${i}: contributors are paid when models trained on their data are used.` }),
    JSON.stringify({ prompt: `Question ${i}: who is paid for data? `, completion: `Answer ${i}: the contributors.` }),
    // Three times: the passage the model learns by heart.
    ...Array(3).fill(JSON.stringify({ text: PASSAGES[i] })),
  ].join('\n') + '\n',
);
/** Two contributors: Bob contributes the even contributions, Alice the odd ones. */
const CONTRIBUTORS = ['//Bob', '//Alice'];
const contributorOf = (i) => CONTRIBUTORS[i % 2];

const EVAL_PPM = 300_000;

/** The serving configuration: answers settle when four wait, or after a restart. */
const SERVING = {
  base_models: ['tiny-byte-gpt', 'SmolLM2-135M-Instruct'],
  max_running: 4,
  max_queued: 4,
  max_prompt_tokens: 256,
  max_tokens: 64,
  kv_cache_mib: 64,
  price_per_1k_tokens: '0.5',
  settle_interval_secs: 3600,
  settle_batch: 4,
};

/** The community pot, which the protocol's share of each fee goes to. */
const POT = encodeAddress(u8aConcat(stringToU8a('modl'), stringToU8a('ol/cmnty'), new Uint8Array(20)), 42);

/** The longest run of consecutive words that `a` and `b` (without empty words) share. */
function longestCommonRun(a, b) {
  [a, b] = [a.filter((w) => w.length > 0), b.filter((w) => w.length > 0)];
  let best = [];
  for (let i = 0; i < a.length; i += 1) {
    for (let j = 0; j < b.length; j += 1) {
      let n = 0;
      while (i + n < a.length && j + n < b.length && a[i + n] === b[j + n]) n += 1;
      if (n > best.length) best = a.slice(i, i + n);
    }
  }
  return best;
}

/** Signs an API key with the CLI; returns its JSON (`key`, `id`, `models`). */
async function makeKey(ws, provider, suri, models, max) {
  const args = ['--rpc', ws, '--json', 'key', '--provider', provider, '--max', max, '--expires', '1h', '--suri', suri];
  for (const m of models) args.push('--model', String(m));
  const out = await cli(args);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout.trim());
}

/** The status of a promise that should be refused by the server. */
async function refusal(promise) {
  const error = await promise.then(() => assert.fail('the request was answered'), (e) => e);
  assert.ok(error instanceof OpenAI.APIError, `${error}`);
  return error;
}

describe('OpenLoRA serving through the openai client', () => {
  let node;
  let api;
  let ticker;
  let trainer;
  let server;
  let dir;
  let client;
  let key;
  const models = {};
  let seed;
  let contributionHashes;
  const ws = () => `ws://127.0.0.1:${node.rpcPort}`;

  const train = async (name, args) => {
    const out = await cli([
      '--rpc', ws(), '--json', 'train', '--source', '0:0', '--batch-size', '2', '--sequence-length', '32', '--warmup-steps', '1',
      '--eval-percent', '30', '--seed', String(seed), '--max-fee', '50', '--name', name, '--suri', '//Eve', '--wait', '300', ...args,
    ]);
    assert.equal(out.code, 0, `${out.stderr}\n${trainer.logs.slice(-20).join('\n')}`);
    return JSON.parse(out.stdout.trim().split('\n').pop()).model.id;
  };

  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
    api = node.api;
    ticker = blockTicker(api, 500);
    const { eve, charlie } = await accounts();
    dir = await mkdtemp(join(tmpdir(), 'openledger-openlora-'));
    trainer = await startTrainer(api, node.rpcPort, MODEL_CACHE);
    contributionHashes = (await publishedDatanet({
      api,
      ws: ws(),
      provider: trainer,
      dir,
      contributions,
      contributor: contributorOf,
      metadata: { name: 'Facts', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' },
    })).map((h) => u8aToHex(h));
    // A split that trains on at least one contribution of each contributor.
    const hashes = contributionHashes.map((h) => hexToU8a(h));
    seed = splittingSeed(hashes, EVAL_PPM, (held) => CONTRIBUTORS.every((_, c) => held.some((out, i) => !out && i % 2 === c)));

    models.a = await train('tiny-a', ['--base', 'tiny-byte-gpt', '--rank', '8', '--max-steps', '10', '--learning-rate', '0.01']);
    models.b = await train('tiny-b', ['--base', 'tiny-byte-gpt', '--rank', '4', '--targets', 'q_proj,k_proj,up_proj', '--max-steps', '10', '--learning-rate', '0.01']);
    // Enough steps for SmolLM2 to learn the passages by heart.
    models.smol = await train('smol', ['--base', 'SmolLM2-135M-Instruct', '--rank', '4', '--targets', 'q_proj,v_proj,up_proj,down_proj', '--epochs', '100', '--max-steps', '60', '--learning-rate', '0.005']);
    models.draft = await train('tiny-draft', ['--base', 'tiny-byte-gpt', '--rank', '2', '--max-steps', '2', '--learning-rate', '0.01']);
    for (const id of [models.a, models.b, models.smol]) {
      await submit(api, api.tx.models.publish(id, OPEN, 300_000_000), eve, { until: 'inBlock' });
    }

    server = await startProvider({
      rpcPort: node.rpcPort,
      suri: '//Charlie',
      maxBlobBytes: 4 << 20,
      baseModelsDir: MODEL_CACHE,
      serving: SERVING,
    });
    await waitFor('registration', async () => (await api.query.compute.providers(charlie.address)).isSome);
    await waitFor('the offers', async () => (await api.call.inferenceApi.offers(charlie.address)).length === 2);
    const deposited = await cli(['--rpc', ws(), 'deposit', '100', '--provider', server.url, '--suri', '//Dave']);
    assert.equal(deposited.code, 0, deposited.stderr);
    key = (await makeKey(ws(), server.url, '//Dave', [models.a, models.b, models.smol], '50')).key;
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0, timeout: 120_000 });
    await waitFor('the published models', async () => (await client.models.list()).data.length === 3);
  });

  after(async () => {
    if (server) await server.cleanup();
    if (trainer) await trainer.cleanup();
    if (ticker) await ticker.stop();
    if (node) await node.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('models lists the published adapters by on-chain id, never a draft', async () => {
    const listed = (await client.models.list()).data;
    assert.deepEqual(listed.map((m) => m.id).sort(), [models.a, models.b, models.smol].map(String).sort());
    const a = listed.find((m) => m.id === String(models.a));
    assert.equal(a.object, 'model');
    assert.equal(a.base_model, 'tiny-byte-gpt');
    assert.equal(a.lora.rank, 8);
    const record = (await api.call.modelsApi.model(models.a)).unwrap();
    assert.equal(a.artifact, record.artifact.contentHash.toHex());
    const error = await refusal(client.completions.create({ model: String(models.draft), prompt: 'x' }));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
  });

  test('a completion, whole and streamed, greedy and seeded; the served adapter is re-served by its hash', async () => {
    const prompt = 'Question 1: who is paid for data? ';
    const ask = (extra) => client.completions.create({ model: String(models.a), prompt, max_tokens: 24, temperature: 0, ...extra });
    const whole = await ask({});
    const text = whole.choices[0].text;
    assert.equal(whole.object, 'text_completion');
    assert.equal(whole.usage.prompt_tokens, Buffer.byteLength(prompt));
    assert.ok(whole.usage.completion_tokens >= 1 && whole.usage.completion_tokens <= 24);
    assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);
    assert.ok(['length', 'stop'].includes(whole.choices[0].finish_reason));
    assert.equal((await ask({})).choices[0].text, text, 'greedy decoding repeats');

    const stream = await ask({ stream: true, stream_options: { include_usage: true } });
    let streamed = '';
    let usage;
    let finish;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        streamed += choice.text;
        finish = choice.finish_reason ?? finish;
      }
    }
    assert.equal(streamed, text, 'the stream carries the same text');
    assert.deepEqual(usage, whole.usage);
    assert.equal(finish, whole.choices[0].finish_reason);

    const sampled = (seed) => client.completions.create({ model: String(models.a), prompt, max_tokens: 24, temperature: 1.2, seed });
    const first = (await sampled(7)).choices[0].text;
    assert.equal((await sampled(7)).choices[0].text, first, 'a seed reproduces its answer');

    // The adapter is kept by the serving provider, byte for byte, and served to others.
    const record = (await api.call.modelsApi.model(models.a)).unwrap();
    const hash = record.artifact.contentHash.toHex();
    const blob = Buffer.from(await (await fetch(`${server.url}/v1/blobs/${hash}`)).arrayBuffer());
    assert.equal(blake2AsHex(blob, 256), hash);
    await access(join(server.dataDir, 'models', String(models.a), 'adapter_config.json'));
  });

  test('openledger complete and openledger chat find the serving provider and stream its answers', async () => {
    const prompt = 'Question 2: who is paid for data? ';
    const api = await client.completions.create({ model: String(models.a), prompt, max_tokens: 12, temperature: 0 });
    const out = await cli(['--rpc', ws(), '--json', 'complete', '--key', key, '--model', String(models.a), '--max-tokens', '12', prompt]);
    assert.equal(out.code, 0, out.stderr);
    const completed = JSON.parse(out.stdout.trim().split('\n').pop());
    assert.equal(completed.provider, server.url);
    assert.equal(completed.text, api.choices[0].text);
    assert.equal(completed.usage.completion_tokens, api.usage.completion_tokens);

    const chat = await cli(
      ['--rpc', ws(), '--json', 'chat', '--key', key, '--model', String(models.smol), '--max-tokens', '8'],
      { input: 'Hello!\nAnd who are you?\n' },
    );
    assert.equal(chat.code, 0, chat.stderr);
    const answers = chat.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(answers.length, 2);
    assert.ok(answers.every((a) => a.content.length > 0));
    // The second turn carries the first: its prompt is longer by the whole first exchange.
    assert.ok(answers[1].usage.prompt_tokens > answers[0].usage.prompt_tokens + answers[0].usage.completion_tokens);

    const missing = await cli(['--rpc', ws(), 'complete', '--model', String(models.draft), 'x']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no registered provider serves model/);
  });

  test('a stop sequence cuts the answer before it; logprobs of the chosen tokens', async () => {
    const prompt = 'Datanet fact 2: ';
    const base = await client.completions.create({ model: String(models.a), prompt, max_tokens: 32, temperature: 0 });
    const text = base.choices[0].text;
    assert.ok(text.length >= 8, `a long enough answer: ${JSON.stringify(text)}`);
    const stop = text.slice(4, 6);
    const cut = await client.completions.create({ model: String(models.a), prompt, max_tokens: 32, temperature: 0, stop: [stop] });
    assert.equal(cut.choices[0].text, text.slice(0, text.indexOf(stop)));
    assert.equal(cut.choices[0].finish_reason, 'stop');

    const withLogprobs = await client.completions.create({ model: String(models.a), prompt, max_tokens: 8, temperature: 0, logprobs: 0 });
    const logprobs = withLogprobs.choices[0].logprobs;
    assert.equal(logprobs.token_logprobs.length, withLogprobs.usage.completion_tokens);
    assert.ok(logprobs.token_logprobs.every((p) => p <= 0 && Number.isFinite(p)));
    assert.equal(logprobs.tokens.length, withLogprobs.usage.completion_tokens);
    assert.equal(logprobs.text_offset[0], 0);
  });

  test('chat with the SmolLM2 adapter in ChatML, streamed and whole', async () => {
    const messages = [{ role: 'user', content: 'Who is paid when a model trained on a datanet is used?' }];
    const whole = await client.chat.completions.create({ model: String(models.smol), messages, max_tokens: 24, temperature: 0, logprobs: true });
    const answer = whole.choices[0].message;
    assert.equal(answer.role, 'assistant');
    assert.ok(answer.content.length > 0);
    assert.ok(!answer.content.includes('<|im_end|>') && !answer.content.includes('<|im_start|>'));
    // The default system message and the template's markers: more tokens than the question's words.
    assert.ok(whole.usage.prompt_tokens > 25, `${whole.usage.prompt_tokens}`);
    assert.equal(whole.choices[0].logprobs.content.length, whole.usage.completion_tokens);

    const stream = await client.chat.completions.create({ model: String(models.smol), messages, max_tokens: 24, temperature: 0, stream: true });
    let streamed = '';
    let role;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta ?? {};
      role = delta.role ?? role;
      streamed += delta.content ?? '';
    }
    assert.equal(role, 'assistant');
    assert.equal(streamed, answer.content);
  });

  test('an ensemble of both tiny adapters, weighted, in one request', async () => {
    const prompt = 'Answer 3: ';
    const ensemble = await client.completions.create({ model: `${models.a}+${models.b}`, prompt, max_tokens: 16, temperature: 0 });
    assert.equal(ensemble.model, `${models.a}+${models.b}`);
    assert.ok(ensemble.usage.completion_tokens >= 1);
    const weighted = await client.completions.create({ model: `0.5*${models.a}+0.5*${models.b}`, prompt, max_tokens: 16, temperature: 0 });
    assert.ok(weighted.usage.completion_tokens >= 1);
    const across = await refusal(client.completions.create({ model: `${models.a}+${models.smol}`, prompt, max_tokens: 4 }));
    assert.equal(across.status, 400);
  });

  test('every answer carries its attribution, as anyone recomputes it from the published corpus index', async () => {
    const prompt = 'Question 3: who is paid for data? ';
    // Spans in every answer; gradient influence (a backward pass) when asked for.
    const plain = await client.completions.create({ model: String(models.a), prompt, max_tokens: 24, temperature: 0 });
    assert.equal(plain.openledger_attribution[0].influence, undefined);
    const whole = await client.completions.create({ model: String(models.a), prompt, max_tokens: 24, temperature: 0, openledger_influence: true });
    assert.deepEqual({ ...whole.openledger_attribution[0], influence: undefined }, { ...plain.openledger_attribution[0], influence: undefined });
    assert.equal(whole.openledger_attribution.length, 1);
    const [attribution] = whole.openledger_attribution;
    assert.equal(attribution.model, models.a);
    const records = (await api.call.modelsApi.provenance(models.a)).unwrap().records.unwrap();
    assert.equal(attribution.corpus_index, records.corpusIndex.contentHash.toHex());
    assert.equal(attribution.method.name, 'spans');
    assert.equal(attribution.method.min_tokens, 24);
    const total = attribution.contributions.reduce((sum, c) => sum + c.ppb, 0);
    assert.ok(attribution.contributions.length === 0 || total === 1_000_000_000, `${total}`);
    // The serving provider fetched the index from the trainer and keeps it, byte for byte.
    const kept = Buffer.from(await (await fetch(`${server.url}/v1/blobs/${attribution.corpus_index}`)).arrayBuffer());
    assert.equal(blake2AsHex(kept, 256), attribution.corpus_index);
    // The adapter's training published gradient features (a tiny-byte-gpt model): the answer's
    // gradient influence after its prompt, over them.
    assert.equal(attribution.influence.features, records.features.unwrap().contentHash.toHex(), JSON.stringify(attribution.influence));
    assert.equal(attribution.influence.method.name, 'influence');
    assert.equal(attribution.influence.method.dims, 1024);
    const influenced = attribution.influence.contributions.reduce((sum, c) => sum + c.ppb, 0);
    assert.ok(attribution.influence.contributions.length > 0 && influenced === 1_000_000_000, JSON.stringify(attribution.influence));
    const recomputed = await cli(['--rpc', ws(), '--json', 'model', 'attribute', String(models.a), '--text', whole.choices[0].text, '--prompt', prompt]);
    assert.equal(recomputed.code, 0, recomputed.stderr);
    assert.deepEqual(JSON.parse(recomputed.stdout), attribution);

    // A stream carries it in its last event.
    const stream = await client.completions.create({ model: String(models.a), prompt, max_tokens: 24, temperature: 0, stream: true, openledger_influence: true });
    let last;
    for await (const chunk of stream) if (chunk.openledger_attribution) last = chunk.openledger_attribution;
    assert.deepEqual(last, whole.openledger_attribution);
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /openlora:attribution_seconds_count\{base="tiny-byte-gpt"\} [1-9]/);
  });

  test('a passage of the data is attributed to its contribution alone, with its span and contributor', async () => {
    const keys = await accounts();
    const records = (await api.call.modelsApi.provenance(models.a)).unwrap().records.unwrap();
    const manifest = await (await fetch(`${trainer.url}/v1/blobs/${records.manifest.contentHash.toHex()}`)).json();
    const trained = manifest.trained[0];
    const i = contributionHashes.findIndex((h) => h === trained.content_hash);
    assert.ok(i >= 0, 'the manifest names the contributions by their content hashes');
    const passage = `Datanet fact ${i}: contributors are paid when models trained on their data are used.`;
    const text = `As the datanet says: ${passage} That is all.`;
    // `openledger attribute --model` is `openledger model attribute`.
    const out = await cli(['--rpc', ws(), '--json', 'attribute', '--model', String(models.a), '--text', text]);
    assert.equal(out.code, 0, out.stderr);
    const attribution = JSON.parse(out.stdout);
    const contributor = keys[contributorOf(i).slice(2).toLowerCase()].address;
    assert.deepEqual(attribution.contributions, [{ datanet: 0, contribution: trained.contribution, contributor, ppb: 1_000_000_000 }]);
    // Each document of the corpus starts where its text does: the span starts at "Datanet".
    assert.deepEqual(attribution.spans.map((s) => s.text), [passage]);
    assert.equal(text.slice(attribution.spans[0].start, attribution.spans[0].end), passage);
    // A text the data never held names no one.
    const none = JSON.parse((await cli(['--rpc', ws(), '--json', 'model', 'attribute', String(models.a), '--text', 'Quartz lanterns drift over the northern harbor at dusk.'])).stdout);
    assert.deepEqual(none.contributions, []);
    // A corpus index larger than the caller takes is not fetched.
    const capped = await cli(['--rpc', ws(), 'model', 'attribute', String(models.a), '--text', text, '--max-bytes', '1000']);
    assert.notEqual(capped.code, 0);
    assert.match(capped.stderr, new RegExp(`${records.corpusIndex.length.toString()} bytes, more than the 1000 this fetches`));
  });

  test('a model trained on two contributors\' data recalls a passage of each, and each answer is traced to its contribution and contributor', async () => {
    const keys = await accounts();
    const records = (await api.call.modelsApi.provenance(models.smol)).unwrap().records.unwrap();
    const manifest = await (await fetch(`${trainer.url}/v1/blobs/${records.manifest.contentHash.toHex()}`)).json();
    for (const [c, suri] of CONTRIBUTORS.entries()) {
      // A contribution of this contributor that training did not hold out.
      const i = contributionHashes.findIndex((h, i) => i % 2 === c && manifest.trained.some((t) => t.content_hash === h));
      const trained = manifest.trained.find((t) => t.content_hash === contributionHashes[i]);
      const words = PASSAGES[i].split(' ');
      const prompt = words.slice(0, OPENING).join(' ');
      const rest = ` ${words.slice(OPENING).join(' ')}`;
      const answer = await client.completions.create({ model: String(models.smol), prompt, max_tokens: 32, temperature: 0 });
      const text = answer.choices[0].text;
      // The model learned the passage: its answer holds a run of at least seven of its words.
      const recalled = longestCommonRun(text.split(/\s+/), rest.split(/\s+/));
      assert.ok(recalled.length >= 7, `${JSON.stringify(prompt)} -> ${JSON.stringify(text)}`);
      const [attribution] = answer.openledger_attribution;
      const contributor = keys[suri.slice(2).toLowerCase()].address;
      assert.deepEqual(attribution.contributions[0], { datanet: 0, contribution: trained.contribution, contributor, ppb: attribution.contributions[0].ppb });
      // The other contributor's passages are not in the answer: nothing of theirs is named.
      assert.ok(attribution.contributions.every((w) => w.contributor === contributor), JSON.stringify(attribution.contributions));
      // The matched span is the recalled passage, as the answer holds it.
      const span = attribution.spans.find((s) => rest.includes(s.text) && recalled.join(' ').includes(s.text.trim()));
      assert.ok(span && span.text.trim().split(' ').length >= 6, `${JSON.stringify(text)}: ${JSON.stringify(attribution.spans)}`);
      assert.equal(text.slice(span.start, span.end), span.text);
      assert.deepEqual(span.contributions, [{ datanet: 0, contribution: trained.contribution }]);
    }
  });

  test('refusals: 400 for what is not served, 404, 413 and 429 with Retry-After', async () => {
    const model = String(models.a);
    for (const extra of [{ n: 2 }, { frequency_penalty: 1 }, { logit_bias: { 5: 1 } }, { max_tokens: 1000 }, { temperature: 5 }]) {
      const error = await refusal(client.completions.create({ model, prompt: 'x', max_tokens: 4, ...extra }));
      assert.equal(error.status, 400, JSON.stringify(extra));
      assert.equal(error.type, 'invalid_request_error');
    }
    assert.equal((await refusal(client.completions.create({ model: '999', prompt: 'x' }))).status, 404);
    assert.equal((await refusal(client.completions.create({ model: 'gpt-4o', prompt: 'x' }))).status, 400);
    const tooLong = await refusal(client.completions.create({ model, prompt: 'y'.repeat(300), max_tokens: 4 }));
    assert.equal(tooLong.status, 413);
    assert.equal(tooLong.code, 'context_length_exceeded');
    const raw = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{"model": ' });
    assert.equal(raw.status, 400);
    assert.equal((await raw.json()).error.type, 'invalid_request_error');

    // Four run and four wait: a flood of twelve on SmolLM2 gets 429s with Retry-After, and the
    // rest is answered.
    const flood = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        client.completions.create({ model: String(models.smol), prompt: `flood ${i} `, max_tokens: 16, temperature: 0 }),
      ),
    );
    const refused = flood.filter((r) => r.status === 'rejected');
    const answered = flood.filter((r) => r.status === 'fulfilled');
    assert.ok(refused.length >= 1 && answered.length >= 4, `${refused.length} refused, ${answered.length} answered`);
    for (const { reason } of refused) {
      assert.equal(reason.status, 429);
      assert.ok(Number(reason.headers.get('retry-after')) >= 1);
    }
  });

  test('a client that goes away mid-stream ends its request at the next step', async () => {
    const controller = new AbortController();
    const stream = await client.completions.create(
      { model: String(models.smol), prompt: 'Tell a long story: ', max_tokens: 64, temperature: 0, stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        void chunk;
        chunks += 1;
        if (chunks === 2) controller.abort();
      }
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIUserAbortError, `${error}`);
    }
    assert.equal(chunks, 2);
    const aborted = /openlora:request_success_total\{base="SmolLM2-135M-Instruct",finished_reason="abort"\} [1-9]/;
    await waitFor('the request to end as aborted', async () => aborted.test(await (await fetch(`${server.url}/metrics`)).text()), 20_000);
  });

  test('metrics in Prometheus format count the tokens, the batch and the adapter pool', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
    assert.ok(value('openlora:generation_tokens_total\\{base="tiny-byte-gpt"\\}') > 0);
    assert.ok(value('openlora:adapter_pool_loads_total\\{base="tiny-byte-gpt"\\}') >= 2);
    assert.ok(value('openlora:adapter_pool_loads_total\\{base="SmolLM2-135M-Instruct"\\}') >= 1);
    assert.ok(value('openlora:time_to_first_token_seconds_count\\{base="tiny-byte-gpt"\\}') > 0);
    assert.equal(value('openlora:models_served'), 3);
    assert.match(text, /# TYPE openlora:batch_size histogram/);
  });

  const unsettled = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(text.match(/^openledger:unsettled_inferences (\d+)$/m)?.[1]);
  };

  const restart = async () => {
    await server.stop('SIGKILL');
    server = await startProvider({
      rpcPort: node.rpcPort,
      suri: '//Charlie',
      port: server.port,
      dataDir: server.dataDir,
      maxBlobBytes: 4 << 20,
      baseModelsDir: MODEL_CACHE,
      serving: SERVING,
    });
    await waitFor('the published models after the restart', async () => (await client.models.list()).data.length === 3);
  };

  test('fees reach the pot, the provider, the owner and the contributors to the unit, across a provider killed before settling', async () => {
    const { eve, charlie } = await accounts();
    // What earlier answers left unsettled settles when the restarted provider reads its journal.
    await restart();
    await waitFor('earlier answers settled', async () => (await unsettled()) === 0, 60_000);
    const rewards = async (who) => BigInt((await api.call.inferenceApi.rewards(who)).toString());
    const pool = async () => BigInt((await api.query.inference.contributorPools(0, 0)).paid.toString());
    const before = { eve: await rewards(eve.address), charlie: await rewards(charlie.address), pot: await rewards(POT), pool: await pool() };

    const deposited = await cli(['--rpc', ws(), 'deposit', '10', '--provider', server.url, '--suri', '//Alice']);
    assert.equal(deposited.code, 0, deposited.stderr);
    const alice = await makeKey(ws(), server.url, '//Alice', [models.a, models.smol], '5');
    const paying = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: alice.key, maxRetries: 0, timeout: 120_000 });
    const whole = await paying.completions.create({ model: String(models.a), prompt: 'Datanet fact 1: ', max_tokens: 8, temperature: 0 });
    const receipts = [whole.openledger_receipt];
    const stream = await paying.chat.completions.create({
      model: String(models.smol), messages: [{ role: 'user', content: 'Who is paid for data?' }], max_tokens: 8, temperature: 0,
      stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.openledger_receipt) receipts.push(chunk.openledger_receipt);
    }
    assert.ok(text.length > 0);
    assert.equal(receipts.length, 2, JSON.stringify(receipts));
    assert.deepEqual(receipts.map((r) => r.seq), [[1], [2]]);
    assert.equal(receipts[0].prompt_tokens + receipts[0].completion_tokens, whole.usage.total_tokens);
    // 1 OPEN per 1,000 tokens for the model, 0.5 for serving: whole units per token, no rounding.
    const tokens = BigInt(receipts.reduce((n, r) => n + r.prompt_tokens + r.completion_tokens, 0));
    const perToken = 10n ** 15n;
    assert.equal(BigInt(receipts[1].spent), tokens * (perToken * 3n / 2n));
    assert.equal(await unsettled(), 2);

    // Killed with both answers in its journal only; the restarted provider settles them.
    await restart();
    const id = alice.id;
    await waitFor('the answers settled', async () => {
      const state = await api.call.inferenceApi.key(id);
      return state.isSome && state.unwrap().lastSeq.toNumber() === 2;
    }, 60_000);
    const after = { eve: await rewards(eve.address), charlie: await rewards(charlie.address), pot: await rewards(POT), pool: await pool() };
    // The protocol takes 5% of both parts; the model's 95% goes 30% to the contributors.
    assert.equal(after.pot - before.pot, tokens * (perToken * 5n / 100n + perToken / 2n * 5n / 100n));
    assert.equal(after.charlie - before.charlie, tokens * (perToken / 2n * 95n / 100n));
    assert.equal(after.pool - before.pool, tokens * (perToken * 95n / 100n * 30n / 100n));
    assert.equal(after.eve - before.eve, tokens * (perToken * 95n / 100n * 70n / 100n));
    const prepaid = (await api.query.inference.prepaidFunds((await accounts()).alice.address, charlie.address)).unwrap();
    assert.equal(BigInt(prepaid.held.toString()), 10n * OPEN - tokens * (perToken * 3n / 2n));

    // The contributor finds and claims its share; the owner claims its rewards.
    const found = await cli(['--rpc', ws(), '--json', 'rewards', '--suri', '//Bob']);
    assert.equal(found.code, 0, found.stderr);
    const claimable = JSON.parse(found.stdout.trim());
    assert.ok(claimable.contributions.length > 0, found.stdout);
    const claimed = await cli(['--rpc', ws(), '--json', 'claim', '--suri', '//Bob']);
    assert.equal(claimed.code, 0, claimed.stderr);
    const total = claimable.contributions.reduce((n, c) => n + BigInt(c[3]), 0n);
    assert.equal(BigInt(JSON.parse(claimed.stdout.trim()).claimed), total);
    const again = JSON.parse((await cli(['--rpc', ws(), '--json', 'rewards', '--suri', '//Bob'])).stdout.trim());
    assert.equal(again.contributions.length, 0);
  });

  test('a replayed settlement and every bad key are refused: exhausted, another provider\'s or chain\'s, malformed, underpriced, too long-lived, for another model, expired, revoked', async () => {
    const { charlie } = await accounts();
    const alice = await makeKey(ws(), server.url, '//Alice', [models.a], '0.001');
    const paying = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: alice.key, maxRetries: 0 });
    const over = await refusal(paying.completions.create({ model: String(models.a), prompt: 'x', max_tokens: 8 }));
    assert.equal(over.status, 402);
    assert.match(over.message, /may cost/);

    // What a provider asks the chain of each key: another provider's check refuses it.
    const { ferdie } = await accounts();
    const checked = await api.call.inferenceApi.authorise(`0x${alice.key.slice(4)}`, ferdie.address);
    assert.ok(checked.isErr && checked.asErr.isWrongProvider, checked.toString());
    const garbled = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `olk_${'00'.repeat(40)}`, maxRetries: 0 });
    assert.equal((await refusal(garbled.completions.create({ model: String(models.a), prompt: 'x', max_tokens: 8 }))).status, 401);
    const none = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-not-ours', maxRetries: 0 });
    assert.equal((await refusal(none.completions.create({ model: String(models.a), prompt: 'x', max_tokens: 8 }))).status, 401);

    // Keys signed here, as any wallet could: for another chain, or pinning a price below today's.
    const { alice: signer } = await accounts();
    const model = await api.call.modelsApi.model(models.a);
    const price = model.unwrap().status.asPublished.pricePer1kTokens.toBigInt();
    const signedKey = (fields) => {
      const authorisation = api.createType('PalletInferenceAuthorisation', {
        genesis: api.genesisHash.toHex(), user: signer.address, provider: charlie.address,
        models: [{ model: models.a, modelPrice: price, servingPrice: OPEN / 2n }], maxSpend: OPEN, expires: 1_000_000, nonce: 7,
        ...fields,
      });
      const signature = signer.sign(u8aConcat(stringToU8a('openledger/inference-key/v1:'), authorisation.toU8a()));
      const key = api.createType('PalletInferenceSignedAuthorisation', { authorisation, signature: { Sr25519: signature } });
      return `olk_${key.toHex().slice(2)}`;
    };
    const ask = (apiKey, m = models.a) =>
      refusal(new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 }).completions.create({ model: String(m), prompt: 'x', max_tokens: 8 }));
    const expiresAt = (await api.rpc.chain.getHeader()).number.toNumber() + 1_000;
    const otherChain = await ask(signedKey({ genesis: `0x${'01'.repeat(32)}`, expires: expiresAt }));
    assert.equal(otherChain.status, 401);
    assert.match(otherChain.message, /another chain/);
    const cheap = await ask(signedKey({ models: [{ model: models.a, modelPrice: price - 1n, servingPrice: OPEN / 2n }], expires: expiresAt }));
    assert.equal(cheap.status, 403);
    assert.match(cheap.message, /below today's/);
    const otherProvider = await ask(signedKey({ provider: (await accounts()).ferdie.address, expires: expiresAt }));
    assert.equal(otherProvider.status, 403);
    assert.match(otherProvider.message, /another provider/);
    const { bob } = await accounts();
    const forged = api.createType('PalletInferenceSignedAuthorisation', {
      authorisation: api.createType('PalletInferenceAuthorisation', {
        genesis: api.genesisHash.toHex(), user: signer.address, provider: charlie.address,
        models: [{ model: models.a, modelPrice: price, servingPrice: OPEN / 2n }], maxSpend: OPEN, expires: expiresAt, nonce: 8,
      }),
      signature: { Sr25519: bob.sign(stringToU8a('Alice pays')) },
    });
    const wronglySigned = await ask(`olk_${forged.toHex().slice(2)}`);
    assert.equal(wronglySigned.status, 401);
    assert.match(wronglySigned.message, /signature does not verify/);
    const tooLong = await ask(signedKey({}));
    assert.equal(tooLong.status, 403);
    assert.match(tooLong.message, /later than the chain allows/);

    // A model the key does not allow; an expired key; a revoked key, refused at once.
    const onlyA = await makeKey(ws(), server.url, '//Alice', [models.a], '5');
    const notAllowed = await ask(onlyA.key, models.smol);
    assert.equal(notAllowed.status, 403);
    assert.match(notAllowed.message, /does not allow model/);
    const expiring = await cli(['--rpc', ws(), '--json', 'key', '--provider', server.url, '--model', String(models.a), '--max', '1', '--expires', '1', '--suri', '//Alice']);
    assert.equal(expiring.code, 0, expiring.stderr);
    const shortLived = JSON.parse(expiring.stdout.trim()).key;
    const at = (await api.rpc.chain.getHeader()).number.toNumber();
    await waitFor('two more blocks', async () => (await api.rpc.chain.getHeader()).number.toNumber() >= at + 2);
    const expired = await ask(shortLived);
    assert.equal(expired.status, 403);
    assert.match(expired.message, /expired/);
    const revoked = await cli(['--rpc', ws(), '--json', 'revoke', '--key', onlyA.key, '--suri', '//Alice']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const refusedRevoked = await ask(onlyA.key);
    assert.equal(refusedRevoked.status, 403);
    assert.match(refusedRevoked.message, /revoked/);

    // Replay on chain: a record number the key settled already.
    const keyBytes = `0x${(await makeKey(ws(), server.url, '//Alice', [models.a], '5')).key.slice(4)}`;
    const fee = (10n ** 15n * 3n / 2n).toString();
    const record = { seq: 1, model: models.a, promptTokens: 1, completionTokens: 0, fee, request: `0x${'11'.repeat(32)}` };
    await submit(api, api.tx.inference.settle([{ key: keyBytes, records: [record] }]), charlie, { until: 'inBlock' });
    await assert.rejects(
      submit(api, api.tx.inference.settle([{ key: keyBytes, records: [record] }]), charlie, { until: 'inBlock' }),
      /Replayed/,
    );
  });
});
