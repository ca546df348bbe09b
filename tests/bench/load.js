// Block capacity under load on a real development node with manual sealing: many accounts push a
// mix of balance transfers, datanet contributions, curator reviews and referendum votes into the
// transaction pool at once, then blocks are sealed until the pool is empty. Prints, per block, the
// transactions included, the normal-class weight and proof size used; and in total: submitted,
// refused by the pool, failed in a block, lost (submitted, not refused and never included: must
// be 0) and the time to drain.
//
//   node bench/load.js [--accounts 300] [--transfers 6000] [--contributions 900] [--reviews 300] [--votes 300]
//                      [--keep-chain DIR]
//
// `--keep-chain DIR` runs the node on DIR and keeps it, with the numbers of the first and last
// block that included load in DIR/loaded-blocks, for `benchmark block` (scripts/bench-load.sh).
//
// `runLoad` is also what the end-to-end suite runs, small, to check that nothing is lost.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { blake2AsHex } from '@polkadot/util-crypto';

import { accounts, commitTx, MAX_COST, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker } from '../lib/provider.js';

/** The node arguments a load run needs: manual sealing and a pool that holds the whole burst. */
export const LOAD_NODE_ARGS = ['--dev', '--sealing', 'manual', '--pool-limit', '65536', '--pool-kbytes', '262144'];

const CURATORS = 8;

/** Runs `items` through `worker` with at most `limit` at once; returns the results in order. */
async function pool(items, limit, worker) {
  const results = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await worker(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

/**
 * Sets up `accounts` funded accounts, a datanet (no validation service) with `reviews` pending
 * contributions, commitments for `contributions` more and enough open referenda for `votes`;
 * then pushes the mix into the pool and seals until it is empty. `log` receives the lines to
 * print. Returns the totals.
 */
export async function runLoad(api, { accounts: count = 300, transfers = 6000, contributions = 900, reviews = 300, votes = 300, log = () => {} } = {}) {
  const keys = await accounts();
  const { alice } = keys;
  const users = Array.from({ length: count }, (_, i) => keys.keyring.addFromUri(`//load//${i}`));
  const curators = users.slice(0, Math.min(CURATORS, count));

  // Setup, sealed by a ticker.
  const ticker = blockTicker(api, 50);
  try {
    for (let i = 0; i < users.length; i += 200) {
      const calls = users.slice(i, i + 200).map((u) => api.tx.balances.transferKeepAlive(u.address, 1_000n * OPEN));
      await submit(api, api.tx.utility.batchAll(calls), alice, { until: 'inBlock' });
    }
    const datanet = (await api.query.datanets.nextDatanetId()).toNumber();
    await submit(api, api.tx.datanets.create(
      { name: 'Load', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' },
      { contributionDeposit: 10n * OPEN, maxContributionSize: 1n << 16n, acceptedFormats: ['JsonLines'], curators: curators.map((c) => c.address), approvalsNeeded: 1 },
    ), alice, { until: 'inBlock' });

    // Contributions: one per account in turn; those to review are contributed now.
    const items = Array.from({ length: reviews + contributions }, (_, i) => {
      const bytes = `${JSON.stringify({ text: `load item ${i} ${'x'.repeat(64)}` })}\n`;
      return { who: users[i % count], hash: blake2AsHex(bytes, 256), size: Buffer.byteLength(bytes) };
    });
    const byAccount = new Map();
    for (const item of items) byAccount.set(item.who, [...(byAccount.get(item.who) ?? []), item]);
    await Promise.all([...byAccount].map(([who, mine]) =>
      submit(api, api.tx.utility.batchAll(mine.map((item) => commitTx(api, who.address, datanet, item.hash))), who, { until: 'inBlock' })));
    const contribute = (item) => api.tx.datanets.contribute(datanet, item.hash, item.size, 'JsonLines', MAX_COST);
    const first = (await api.query.datanets.datanetInfo(datanet)).unwrap().contributions.toNumber();
    const toReview = items.slice(0, reviews);
    const reviewers = new Map();
    for (const item of toReview) reviewers.set(item.who, [...(reviewers.get(item.who) ?? []), item]);
    await Promise.all([...reviewers].map(([who, mine]) =>
      submit(api, api.tx.utility.batchAll(mine.map(contribute)), who, { until: 'inBlock' })));
    const pending = (await api.query.datanets.datanetInfo(datanet)).unwrap().contributions.toNumber() - first;
    if (pending !== reviews) throw new Error(`${pending} contributions to review, ${reviews} wanted`);

    // Referenda to vote on: an account votes once on each.
    const referenda = Math.ceil(votes / count);
    const firstReferendum = (await api.query.referenda.referendumCount()).toNumber();
    for (let r = 0; r < referenda; r += 1) {
      const remark = api.tx.system.remark(`load ${r}`);
      await submit(api, api.tx.referenda.submit({ system: 'Root' }, { Inline: remark.method.toHex() }, { After: 1 }), alice, { until: 'inBlock' });
    }

    // The load: every transaction signed ahead, with each account's nonces in order.
    const calls = [];
    for (let i = 0; i < transfers; i += 1) {
      calls.push([users[i % count], api.tx.balances.transferKeepAlive(users[(i + 1) % count].address, OPEN)]);
    }
    for (const item of items.slice(reviews)) calls.push([item.who, contribute(item)]);
    for (let i = 0; i < reviews; i += 1) {
      calls.push([curators[i % curators.length], api.tx.datanets.review(datanet, first + i, 'Accept')]);
    }
    for (let i = 0; i < votes; i += 1) {
      const vote = { Standard: { vote: { aye: i % 3 !== 0, conviction: 'Locked1x' }, balance: 10n * OPEN } };
      calls.push([users[i % count], api.tx.convictionVoting.vote(firstReferendum + Math.floor(i / count), vote)]);
    }
    await ticker.stop();
    const nonces = new Map();
    for (const u of users) nonces.set(u, (await api.rpc.system.accountNextIndex(u.address)).toNumber());
    const signed = [];
    for (const [who, call] of calls) {
      const nonce = nonces.get(who);
      nonces.set(who, nonce + 1);
      signed.push({ nonce, tx: await call.signAsync(who, { nonce, era: 0 }) });
    }
    // Lowest nonces first, so that no transaction waits in the pool's future queue.
    signed.sort((a, b) => a.nonce - b.nonce);
    const startedSubmit = Date.now();
    const refusals = new Map();
    const outcomes = await pool(signed, 256, async ({ tx }) => {
      try {
        await api.rpc.author.submitExtrinsic(tx);
        return tx.hash.toHex();
      } catch (e) {
        const reason = String(e.message ?? e).slice(0, 120);
        refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
        return null;
      }
    });
    const accepted = new Set(outcomes.filter(Boolean));
    log(`submitted ${signed.length} transactions in ${Date.now() - startedSubmit} ms (${accepted.size} accepted by the pool)`);

    // Seal until the pool is empty.
    const maxNormal = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap();
    const included = new Set();
    let failed = 0;
    let blocks = 0;
    const loaded = [];
    const started = Date.now();
    log('block  txs  normal ref_time (ms, % of max)  proof size (KiB)  sealed in (ms)');
    for (let idle = 0; idle < 2 && blocks < 1000;) {
      const sealing = Date.now();
      const { blockHash } = await api.rpc.engine.createBlock(true, true);
      const sealMs = Date.now() - sealing;
      const [block, events, weight] = await Promise.all([
        api.rpc.chain.getBlock(blockHash),
        api.query.system.events.at(blockHash),
        api.query.system.blockWeight.at(blockHash),
      ]);
      blocks += 1;
      let txs = 0;
      block.block.extrinsics.forEach((ex, index) => {
        if (!ex.isSigned || !accepted.has(ex.hash.toHex())) return;
        txs += 1;
        included.add(ex.hash.toHex());
        const failedHere = events.some(({ phase, event }) =>
          phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index && api.events.system.ExtrinsicFailed.is(event));
        if (failedHere) failed += 1;
      });
      if (txs > 0) loaded.push(block.block.header.number.toNumber());
      const refTime = weight.normal.refTime.toBigInt();
      log(`${String(block.block.header.number.toNumber()).padStart(5)} ${String(txs).padStart(5)}  ${(Number(refTime) / 1e9).toFixed(1).padStart(8)} (${(Number((refTime * 1000n) / maxNormal.refTime.toBigInt()) / 10).toFixed(1)}%)  ${(weight.normal.proofSize.toNumber() / 1024).toFixed(1).padStart(10)}  ${String(sealMs).padStart(13)}`);
      const left = (await api.rpc.author.pendingExtrinsics()).length;
      idle = txs === 0 && left === 0 ? idle + 1 : 0;
    }
    const drainMs = Date.now() - started;
    const totals = {
      submitted: signed.length,
      refused: signed.length - accepted.size,
      included: included.size,
      failed,
      lost: accepted.size - included.size,
      blocks: blocks - 2,
      firstBlock: loaded[0],
      lastBlock: loaded[loaded.length - 1],
      drainMs,
      refusals: Object.fromEntries(refusals),
    };
    log(`submitted ${totals.submitted}, refused by the pool ${totals.refused}, included ${totals.included}, failed in a block ${totals.failed}, lost ${totals.lost}; drained in ${totals.blocks} blocks, ${drainMs} ms`);
    if (refusals.size) log(`refusals: ${JSON.stringify(totals.refusals)}`);
    return totals;
  } finally {
    await ticker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '300' },
      transfers: { type: 'string', default: '6000' },
      contributions: { type: 'string', default: '900' },
      reviews: { type: 'string', default: '300' },
      votes: { type: 'string', default: '300' },
      'keep-chain': { type: 'string' },
    },
  });
  const keepIn = values['keep-chain'];
  const node = await startNode({ args: LOAD_NODE_ARGS, keepIn });
  try {
    const totals = await runLoad(node.api, {
      accounts: Number(values.accounts),
      transfers: Number(values.transfers),
      contributions: Number(values.contributions),
      reviews: Number(values.reviews),
      votes: Number(values.votes),
      log: (line) => console.log(line),
    });
    if (keepIn && totals.firstBlock !== undefined) {
      await writeFile(join(keepIn, 'loaded-blocks'), `${totals.firstBlock} ${totals.lastBlock}\n`);
    }
    process.exitCode = totals.lost === 0 ? 0 : 1;
  } finally {
    await node.stop();
  }
}
