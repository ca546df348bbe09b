// What attribution adds to an answer on the serving path: a development node, a provider that
// trains a tiny-byte-gpt adapter and a SmolLM2 adapter through ModelFactory, another that serves
// them, and the official `openai` client asking each model for answers one at a time. Prints, per
// base model, the answers, their mean latency as the client saw it, and the mean time their
// attribution took on the provider (`openlora:attribution_seconds`: the text's tokenization, the
// spans, the contributors' lookup and, for the tiny adapter when asked, the gradient influence),
// with its share of the latency.
//
//   node bench/attribution.js [--answers 30] [--max-tokens 64]
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import OpenAI from 'openai';

import { accounts, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, cli, startProvider } from '../lib/provider.js';
import { publishedDatanet, splittingSeed, startTrainer } from '../lib/training.js';
import { waitFor } from '../lib/wait.js';

const { values } = parseArgs({
  options: { answers: { type: 'string', default: '30' }, 'max-tokens': { type: 'string', default: '64' } },
});
const ANSWERS = Number(values.answers);
const MAX_TOKENS = Number(values['max-tokens']);
const MODEL_CACHE = process.env.MODEL_CACHE ?? join(homedir(), '.cache', 'openledger', 'models');

const contributions = Array.from({ length: 6 }, (_, i) =>
  [
    JSON.stringify({ text: `Datanet fact ${i}: contributors are paid when models trained on their data are used.` }),
    JSON.stringify({ prompt: `Question ${i}: who is paid for data? `, completion: `Answer ${i}: the contributors.` }),
  ].join('\n') + '\n',
);

const node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
const { api } = node;
const ticker = blockTicker(api, 300);
const dir = await mkdtemp(join(tmpdir(), 'openledger-attribution-'));
let trainer;
let server;
try {
  const { eve, charlie } = await accounts();
  const ws = `ws://127.0.0.1:${node.rpcPort}`;
  trainer = await startTrainer(api, node.rpcPort, MODEL_CACHE);
  const hashes = await publishedDatanet({
    api, ws, provider: trainer, dir, contributions, contributor: () => '//Bob',
    metadata: { name: 'Facts', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' },
  });
  const seed = splittingSeed(hashes, 300_000);
  const train = async (name, args) => {
    const out = await cli([
      '--rpc', ws, '--json', 'train', '--source', '0:0', '--batch-size', '2', '--sequence-length', '32', '--warmup-steps', '1',
      '--eval-percent', '30', '--seed', String(seed), '--max-fee', '50', '--name', name, '--suri', '//Eve', '--wait', '300', ...args,
    ]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout.trim().split('\n').pop()).model.id;
  };
  const models = {
    'tiny-byte-gpt': await train('tiny', ['--base', 'tiny-byte-gpt', '--rank', '8', '--max-steps', '10', '--learning-rate', '0.01']),
    'SmolLM2-135M-Instruct': await train('smol', ['--base', 'SmolLM2-135M-Instruct', '--rank', '4', '--max-steps', '2', '--learning-rate', '0.002']),
  };
  for (const id of Object.values(models)) await submit(api, api.tx.models.publish(id, OPEN, 300_000_000), eve, { until: 'inBlock' });
  server = await startProvider({
    rpcPort: node.rpcPort, suri: '//Charlie', maxBlobBytes: 4 << 20, baseModelsDir: MODEL_CACHE,
    serving: {
      base_models: Object.keys(models), max_running: 4, max_queued: 8, max_prompt_tokens: 256, max_tokens: MAX_TOKENS,
      kv_cache_mib: 64, price_per_1k_tokens: '0.5', settle_interval_secs: 3600, settle_batch: 64,
    },
  });
  await waitFor('registration', async () => (await api.query.compute.providers(charlie.address)).isSome);
  await waitFor('the offers', async () => (await api.call.inferenceApi.offers(charlie.address)).length === 2);
  assert.equal((await cli(['--rpc', ws, 'deposit', '100', '--provider', server.url, '--suri', '//Dave'])).code, 0);
  const keyed = await cli(['--rpc', ws, '--json', 'key', '--provider', server.url, '--max', '50', '--expires', '1h', '--suri', '//Dave', ...Object.values(models).flatMap((m) => ['--model', String(m)])]);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: JSON.parse(keyed.stdout.trim()).key, maxRetries: 0, timeout: 120_000 });
  await waitFor('the published models', async () => (await client.models.list()).data.length === 2);
  const metric = async (name, base) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`openlora:${name}{base="${base}"}`));
    return Number(line?.split(' ').pop() ?? 0);
  };
  console.log('base model | answers | tokens per answer | latency mean (ms) | attribution mean (ms) | share');
  const cases = [['tiny-byte-gpt', false], ['tiny-byte-gpt', true], ['SmolLM2-135M-Instruct', false]];
  for (const [base, influence] of cases) {
    const id = models[base];
    // One answer first: the adapter, the index and the features load in the background.
    await client.completions.create({ model: String(id), prompt: 'Question 0: who is paid for data? ', max_tokens: 4 });
    await waitFor('the attribution files', async () => {
      const answer = await client.completions.create({ model: String(id), prompt: 'Datanet fact', max_tokens: 2, openledger_influence: true });
      return !answer.openledger_attribution[0].error && !answer.openledger_attribution[0].influence?.error;
    });
    const [sum0, count0] = [await metric('attribution_seconds_sum', base), await metric('attribution_seconds_count', base)];
    let latency = 0;
    let tokens = 0;
    for (let i = 0; i < ANSWERS; i += 1) {
      const started = performance.now();
      const answer = await client.completions.create({ model: String(id), prompt: `Question ${i % 6}: who is paid for data? `, max_tokens: MAX_TOKENS, temperature: 0.8, seed: i, openledger_influence: influence });
      latency += performance.now() - started;
      tokens += answer.usage.completion_tokens;
      assert.equal(answer.openledger_attribution.length, 1);
    }
    const [sum, count] = [await metric('attribution_seconds_sum', base), await metric('attribution_seconds_count', base)];
    const attribution = ((sum - sum0) / (count - count0)) * 1e3;
    const mean = latency / ANSWERS;
    console.log(`${base}${influence ? ' (with influence)' : ''} | ${ANSWERS} | ${(tokens / ANSWERS).toFixed(1)} | ${mean.toFixed(1)} | ${attribution.toFixed(3)} | ${((100 * attribution) / mean).toFixed(2)}%`);
  }
} finally {
  if (server) await server.cleanup();
  if (trainer) await trainer.cleanup();
  await ticker.stop();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
