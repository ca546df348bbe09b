// Measures the compute market on a real node with a real provider daemon:
// - dispatch latency: from the request to seal the block that assigns a validation job to the
//   provider seeing the job on chain (it follows new blocks), over single jobs one at a time;
// - throughput: how many validation jobs one provider completes on chain per second when they
//   are created in batches, each job needing two calls of the provider (accept, result), which
//   it sends many to a transaction, in two later blocks. Every job's accept, result, missed deadlines and abandonment
//   are read from the chain's events.
//
//   node bench/compute.js [--single 10] [--jobs 100] [--per-block 100] [--block-ms 250] [--timeout-s 300]
//
// With --per-block below --jobs the jobs arrive as a stream, --per-block of them in each block,
// which measures the rate one provider sustains rather than how fast it drains one burst.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { blake2AsHex } from '@polkadot/util-crypto';

import { accounts, blobUrl, commitTx, MAX_COST, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, startProvider } from '../lib/provider.js';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '10' },
    jobs: { type: 'string', default: '100' },
    'per-block': { type: 'string' },
    'block-ms': { type: 'string', default: '250' },
    'timeout-s': { type: 'string', default: '300' },
  },
});
const single = Number(values.single);
const jobs = Number(values.jobs);
const perBlock = Number(values['per-block'] ?? values.jobs);
const blockMs = Number(values['block-ms']);
const timeoutS = Number(values['timeout-s']);

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

  // Commits to contributions `indices` in one block, uploads them, and returns their
  // `datanets.contribute` calls, to submit in a later block.
  const prepare = async (indices) => {
    const items = indices.map((i) => {
      const bytes = `${JSON.stringify({ prompt: `question ${i}`, answer: 'x'.repeat(200) })}\n`;
      return { bytes, hash: blake2AsHex(bytes, 256) };
    });
    await submit(api, api.tx.utility.batchAll(items.map(({ hash }) => commitTx(api, bob.address, 0, hash))), bob, { until: 'inBlock' });
    for (const { bytes, hash } of items) {
      const response = await fetch(blobUrl(provider.url, hash, 0, bob.address), { method: 'PUT', body: bytes });
      if (response.status !== 201) throw new Error(`upload: ${response.status}`);
    }
    return items.map(({ bytes, hash }) => api.tx.datanets.contribute(0, hash, Buffer.byteLength(bytes), 'JsonLines', MAX_COST));
  };
  // Block timestamps of a development chain follow slots: time from the sealing request instead.
  const requestedAt = async (hash) => {
    let at;
    for (let waited = 0; !(at = ticker.requestedAt(hash)) && waited < 2000; waited += 5) await sleep(5);
    return at ?? Date.now();
  };

  // Every compute event of every block, by job, with the wall-clock time its block was asked for.
  const chainJobs = new Map();
  const entry = (id) => {
    if (!chainJobs.has(id)) chainJobs.set(id, { timedOut: 0 });
    return chainJobs.get(id);
  };
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const hash = header.hash.toHex();
    const events = await api.query.system.events.at(hash);
    const at = await requestedAt(hash);
    for (const { event } of events) {
      if (event.section !== 'compute') continue;
      const id = event.data.job?.toString();
      if (id === undefined) continue;
      const job = entry(id);
      if (event.method === 'JobAssigned') job.assigned ??= at;
      if (event.method === 'JobAccepted') job.accepted ??= at;
      if (event.method === 'JobCompleted') job.completed = at;
      if (event.method === 'JobTimedOut') job.timedOut += 1;
      if (event.method === 'JobAbandoned') job.abandoned = event.data.reason.toString();
    }
  });
  const assignedIn = async (outcome) => {
    const time = await requestedAt(outcome.blockHash);
    const ids = outcome.events
      .filter(({ event }) => api.events.datanets.ValidationRequested.is(event))
      .map(({ event }) => event.data.job.toString());
    return { time, ids };
  };
  // Waits until chain events show every job of `ids` completed or abandoned, or `timeoutS` passed.
  const ended = (id) => chainJobs.get(id)?.completed || chainJobs.get(id)?.abandoned;
  const waitEnded = async (ids) => {
    const deadline = Date.now() + timeoutS * 1000;
    while (!ids.every(ended) && Date.now() < deadline) await sleep(50);
  };

  const latencies = [];
  for (let i = 0; i < single; i += 1) {
    const [tx] = await prepare([i]);
    const { time, ids } = await assignedIn(await submit(api, tx, bob, { until: 'inBlock' }));
    await waitEnded(ids);
    const notified = (await provider.status()).jobs[ids[0]]?.seen_ms;
    if (!notified) throw new Error(`job ${ids[0]} was not seen`);
    latencies.push(notified - time);
  }
  console.log(`dispatch latency over ${single} single jobs (block sealing requested -> provider saw the job, ${blockMs} ms blocks):`
    + ` median ${quantile(latencies, 0.5)} ms, p90 ${quantile(latencies, 0.9)} ms, max ${Math.max(...latencies)} ms`);

  const calls = await prepare(Array.from({ length: jobs }, (_, i) => single + i));
  // `perBlock` contributions in each block, one batch after another.
  const ids = [];
  let time;
  let unavailable = 0;
  for (let i = 0; i < jobs; i += perBlock) {
    const outcome = await submit(api, api.tx.utility.batchAll(calls.slice(i, i + perBlock)), bob, { until: 'inBlock' });
    const batch = await assignedIn(outcome);
    time ??= batch.time;
    ids.push(...batch.ids);
    unavailable += outcome.events.filter(({ event }) => api.events.datanets.ValidationUnavailable.is(event)).length;
  }
  await waitEnded(ids);
  await unsubscribe();

  const records = ids.map((id) => entry(id));
  const completed = records.filter((r) => r.completed);
  const status = await provider.status();
  const notified = ids
    .filter((id) => status.jobs[id]?.seen_ms && chainJobs.get(id)?.assigned)
    .map((id) => status.jobs[id].seen_ms - chainJobs.get(id).assigned);
  console.log(`${jobs} jobs, ${perBlock} created per block (${blockMs} ms blocks, provider concurrency 128):`
    + ` ${unavailable} found no free provider, ${completed.length} completed, ${records.filter((r) => r.abandoned).length} abandoned,`
    + ` ${records.reduce((n, r) => n + r.timedOut, 0)} deadlines missed,`
    + ` ${ids.length - records.filter((r) => r.completed || r.abandoned).length} unfinished after ${timeoutS} s`);
  console.log(`  seen: ${notified.length} jobs, median ${quantile(notified, 0.5)} ms, max ${Math.max(...notified)} ms`
    + ' after their assigning block was requested');
  if (completed.length > 0) {
    const accepted = completed.map((r) => r.accepted - r.assigned);
    const done = completed.map((r) => r.completed - r.assigned);
    const seconds = (Math.max(...completed.map((r) => r.completed)) - time) / 1000;
    console.log(`  from assignment to accepted on chain: median ${quantile(accepted, 0.5)} ms, max ${Math.max(...accepted)} ms;`
      + ` to completed on chain: median ${quantile(done, 0.5)} ms, max ${Math.max(...done)} ms`);
    console.log(`  throughput: ${completed.length} jobs completed on chain in ${seconds.toFixed(2)} s`
      + ` = ${(completed.length / seconds).toFixed(1)} jobs/s for one provider`);
  }
  const errors = ids.map((id) => status.jobs[id]?.error).filter(Boolean);
  if (errors.length > 0) {
    const counts = new Map();
    errors.forEach((e) => counts.set(e, (counts.get(e) ?? 0) + 1));
    console.log('  provider errors:', [...counts].map(([e, n]) => `${n} x ${e}`).join('; '));
  }
  if (completed.length !== ids.length) {
    console.log(provider.logs.slice(-20).join('\n'));
    process.exitCode = 1;
  }
} finally {
  if (provider) await provider.cleanup();
  await ticker.stop();
  await node.stop();
}
