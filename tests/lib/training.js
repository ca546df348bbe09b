// What the ModelFactory tests share: a training provider, a published datanet version, and the
// held-out split of training as the provider computes it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { u8aConcat } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

import { accounts, OPEN, submit } from './chain.js';
import { cli, startProvider } from './provider.js';
import { waitFor } from './wait.js';

/** Whether training holds a contribution out for evaluation: as `openledger_ml::data::is_held_out`. */
export function heldOut(hash, seed, evalPpm) {
  const seedBytes = new Uint8Array(8);
  new DataView(seedBytes.buffer).setBigUint64(0, BigInt(seed), true);
  const digest = blake2AsU8a(u8aConcat(seedBytes, hash), 64);
  return new DataView(digest.buffer, digest.byteOffset).getBigUint64(0, true) % 1_000_000n < BigInt(evalPpm);
}

/**
 * The first seed that puts at least one of `hashes` on each side of the split, and for which
 * `accept` (given whether each hash is held out) holds.
 */
export function splittingSeed(hashes, evalPpm, accept = () => true) {
  for (let seed = 0; ; seed += 1) {
    const held = hashes.map((h) => heldOut(h, seed, evalPpm));
    const out = held.filter((h) => h).length;
    if (out > 0 && out < hashes.length && accept(held)) return seed;
  }
}

/**
 * Starts Ferdie as a provider that validates and trains (SmolLM2 from `modelCache`), and waits
 * for its registration.
 */
export async function startTrainer(api, rpcPort, modelCache) {
  const provider = await startProvider({
    rpcPort,
    suri: '//Ferdie',
    // SmolLM2 adapters of rank 4 on three projections are 1.9 MB.
    maxBlobBytes: 4 << 20,
    baseModelsDir: modelCache,
    offers: [
      { kind: 'contribution-validation', price: '0.5' },
      { kind: 'training', price: '5' },
    ],
  });
  const { ferdie } = await accounts();
  await waitFor('registration', async () => (await api.query.compute.providers(ferdie.address)).isSome);
  return provider;
}

/**
 * Datanet 0, curated by Alice and stored by `provider`, with `contributions` (JSON Lines texts)
 * contributed by `contributor(i)` through the CLI, accepted, and published as version 0. Returns
 * the contributions' content hashes.
 */
export async function publishedDatanet({ api, ws, provider, dir, contributions, contributor, metadata, accessFee }) {
  const { alice } = await accounts();
  const rules = {
    contributionDeposit: 10n * OPEN,
    maxContributionSize: 1n << 20n,
    acceptedFormats: ['JsonLines'],
    curators: [alice.address],
    approvalsNeeded: 1,
  };
  await submit(api, api.tx.datanets.create(metadata, rules), alice, { until: 'inBlock' });
  await submit(api, api.tx.datanets.setServices(0, [provider.url], null), alice, { until: 'inBlock' });
  if (accessFee) await submit(api, api.tx.datanets.setAccessFee(0, accessFee), alice, { until: 'inBlock' });
  const hashes = [];
  for (const [i, text] of contributions.entries()) {
    const file = join(dir, `c${i}.jsonl`);
    await writeFile(file, text);
    const out = await cli(['--rpc', ws, '--json', 'contribute', '--datanet', '0', '--file', file, '--format', 'json-lines', '--suri', contributor(i)]);
    assert.equal(out.code, 0, out.stderr);
    const { contribution } = JSON.parse(out.stdout.trim().split('\n').pop());
    await submit(api, api.tx.datanets.review(0, contribution, 'Accept'), alice, { until: 'inBlock' });
    hashes.push(blake2AsU8a(text, 256));
  }
  await submit(api, api.tx.datanets.publishVersion(0), alice, { until: 'inBlock' });
  return hashes;
}
