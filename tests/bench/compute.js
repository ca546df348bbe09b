// Measures the compute market on a real node with a real provider daemon:
// - dispatch latency: from the block that assigns a validation job (its timestamp) to the
//   provider receiving the offchain worker's notification, over single jobs one at a time;
// - throughput: how many validation jobs one provider completes per second when a batch of them
//   is created in one block, each job needing two of its transactions (accept, result) in two
//   later blocks.
//
//   node bench/compute.js [--single 10] [--jobs 100] [--block-ms 250]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { blake2AsHex } from '@polkadot/util-crypto';

import { accounts, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, startProvider } from '../lib/provider.js';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '10' },
    jobs: { type: 'string', default: '100' },
    'block-ms': { type: 'string', default: '250' },
  },
});
const single = Number(values.single);
const jobs = Number(values.jobs);
const blockMs = Number(values['block-ms']);

const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

const node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
const { api } = node;
const ticker = blockTicker(api, blockMs);
let provider;
try {
  const { alice, bob, charlie } = await accounts();
  provider = await startProvider({ rpcPort: node.rpcPort, concurrency: 128, maxBlobBytes: 1 << 20, pollMs: 5000 });
  const { ferdie } = await accounts();
  while ((await api.query.compute.providers(ferdie.address)).isNone) await sleep(200);
  await submit(api, api.tx.datanets.create(
    { name: 'Bench', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' },
    { contributionDeposit: 10n * OPEN, maxContributionSize: 1n << 20n, acceptedFormats: ['JsonLines'], curators: [charlie.address], approvalsNeeded: 1 },
  ), alice, { until: 'inBlock' });
  await submit(api, api.tx.datanets.setServices(0, [provider.url], { fee: OPEN, autoReject: false }), alice, { until: 'inBlock' });

  const blob = async (i) => {
    const bytes = `${JSON.stringify({ prompt: `question ${i}`, answer: 'x'.repeat(200) })}\n`;
    const hash = blake2AsHex(bytes, 256);
    const response = await fetch(`${provider.url}/v1/blobs/${hash}`, { method: 'PUT', body: bytes });
    if (response.status !== 201) throw new Error(`upload: ${response.status}`);
    return api.tx.datanets.contribute(0, hash, Buffer.byteLength(bytes), 'JsonLines');
  };
  // Block timestamps of a development chain follow slots: time from the sealing request instead.
  const assignedIn = async (outcome) => {
    let time;
    while (!(time = ticker.requestedAt(outcome.blockHash))) await sleep(10);
    const ids = outcome.events
      .filter(({ event }) => api.events.datanets.ValidationRequested.is(event))
      .map(({ event }) => event.data.job.toString());
    return { time, ids };
  };
  const waitCompleted = async (ids) => {
    for (;;) {
      const status = await provider.status();
      if (ids.every((id) => status.jobs[id]?.state === 'completed')) return status;
      await sleep(50);
    }
  };

  const latencies = [];
  for (let i = 0; i < single; i += 1) {
    const { time, ids } = await assignedIn(await submit(api, await blob(i), bob, { until: 'inBlock' }));
    const status = await waitCompleted(ids);
    latencies.push(status.jobs[ids[0]].notified_ms - time);
  }
  console.log(`dispatch latency over ${single} single jobs (block sealing requested -> provider notified, ${blockMs} ms blocks):`
    + ` median ${quantile(latencies, 0.5)} ms, p90 ${quantile(latencies, 0.9)} ms, max ${Math.max(...latencies)} ms`);

  const calls = [];
  for (let i = 0; i < jobs; i += 1) calls.push(await blob(single + i));
  const { time, ids } = await assignedIn(await submit(api, api.tx.utility.batchAll(calls), bob, { until: 'inBlock' }));
  if (ids.length !== jobs) throw new Error(`${ids.length} of ${jobs} jobs were assigned`);
  const status = await waitCompleted(ids);
  const notified = ids.map((id) => status.jobs[id].notified_ms - time);
  const last = Math.max(...ids.map((id) => status.jobs[id].completed_ms));
  const seconds = (last - time) / 1000;
  console.log(`batch of ${jobs} jobs in one block: notified within ${Math.max(...notified)} ms;`
    + ` all completed after ${seconds.toFixed(2)} s: ${(jobs / seconds).toFixed(1)} jobs/s for one provider`
    + ` (${blockMs} ms blocks, concurrency 128)`);
} finally {
  if (provider) await provider.cleanup();
  await ticker.stop();
  await node.stop();
}
