// Settlement capacity on a real development node: a tiny-byte-gpt adapter trained through
// ModelFactory and published, a provider offering its base, users with prepaid OPEN and signed
// API keys, then `inference.settle` extrinsics of many records sealed one block each. Prints, per
// case, the records settled in the block, the weight the settlement was charged and its share of
// the block's weight and of its normal-class budget (the goal: 5,000 records within half the
// block), and the extrinsic's size.
//
//   node bench/settlement.js [--records 5000] [--users 1000]
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

import { accounts, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, cli } from '../lib/provider.js';
import { publishedDatanet, splittingSeed, startTrainer } from '../lib/training.js';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '5000' }, users: { type: 'string', default: '1000' } },
});
const RECORDS = Number(values.records);
const USERS = Number(values.users);
const MODEL_CACHE = process.env.MODEL_CACHE ?? join(homedir(), '.cache', 'openledger', 'models');
const MODEL_PRICE = OPEN / 100n; // per 1,000 tokens
const SERVING_PRICE = OPEN / 200n;
const CONTEXT = stringToU8a('openledger/inference-key/v1:');

const node = await startNode({ args: ['--dev', '--sealing', 'manual', '--pool-limit', '65536', '--pool-kbytes', '262144'] });
const { api } = node;
let ticker = blockTicker(api, 100);
let trainer;
const dir = await mkdtemp(join(tmpdir(), 'openledger-settlement-'));
try {
  const keys = await accounts();
  const { alice, charlie, eve } = keys;
  const ws = `ws://127.0.0.1:${node.rpcPort}`;
  console.log('==> training and publishing a tiny-byte-gpt adapter');
  trainer = await startTrainer(api, node.rpcPort, MODEL_CACHE);
  const contributions = Array.from({ length: 4 }, (_, i) => `${JSON.stringify({ text: `fact ${i}: data earns.` })}\n`);
  const hashes = await publishedDatanet({
    api, ws, provider: trainer, dir, contributions, contributor: () => '//Bob',
    metadata: { name: 'Bench', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' },
  });
  const seed = splittingSeed(hashes, 300_000);
  const trained = await cli([
    '--rpc', ws, '--json', 'train', '--source', '0:0', '--base', 'tiny-byte-gpt', '--rank', '2', '--max-steps', '2',
    '--batch-size', '2', '--sequence-length', '32', '--warmup-steps', '1', '--eval-percent', '30', '--seed', String(seed),
    '--max-fee', '50', '--name', 'bench', '--suri', '//Eve', '--wait', '300',
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  const model = JSON.parse(trained.stdout.trim().split('\n').pop()).model.id;
  await submit(api, api.tx.models.publish(model, MODEL_PRICE, 300_000_000), eve, { until: 'inBlock' });
  await submit(api, api.tx.compute.register(
    { endpoint: 'http://127.0.0.1:1', hardware: { cpuCores: 2, memoryMib: 4096, gpus: 0, gpuMemoryMib: 0 }, concurrency: 1, offers: [{ kind: 'Inference', price: 0 }] },
    1000n * OPEN,
  ), charlie, { until: 'inBlock' });
  await submit(api, api.tx.inference.setOffer(0, SERVING_PRICE), charlie, { until: 'inBlock' });

  console.log(`==> ${USERS} users with prepaid OPEN`);
  const users = Array.from({ length: USERS }, (_, i) => keys.keyring.addFromUri(`//settle//${i}`));
  for (let i = 0; i < users.length; i += 250) {
    const transfers = users.slice(i, i + 250).map((u) => api.tx.balances.transferKeepAlive(u.address, 100n * OPEN));
    await submit(api, api.tx.utility.batchAll(transfers), alice, { until: 'inBlock' });
  }
  // Deposits go in in bursts, a block sealing each.
  await ticker.stop();
  for (let i = 0; i < users.length; i += 500) {
    const burst = users.slice(i, i + 500).map((u) => submit(api, api.tx.inference.deposit(charlie.address, 50n * OPEN), u, { until: 'inBlock', timeoutMs: 600_000 }));
    const sealing = blockTicker(api, 200);
    await Promise.all(burst);
    await sealing.stop();
  }
  ticker = blockTicker(api, 100);

  const genesis = api.genesisHash.toHex();
  const expires = (await api.rpc.chain.getHeader()).number.toNumber() + 10_000;
  let nonce = 0;
  const signedKey = (user) => {
    const authorisation = api.createType('PalletInferenceAuthorisation', {
      genesis, user: user.address, provider: charlie.address,
      models: [{ model, modelPrice: MODEL_PRICE, servingPrice: SERVING_PRICE }],
      maxSpend: 50n * OPEN, expires, nonce: (nonce += 1),
    });
    const signature = user.sign(u8aConcat(CONTEXT, authorisation.toU8a()));
    return { authorisation, signature: { Sr25519: u8aToHex(signature) } };
  };
  const tokens = { prompt: 200, completion: 100 };
  const ceilDiv = (a, b) => (a + b - 1n) / b;
  const fee = ceilDiv(300n * MODEL_PRICE, 1000n) + ceilDiv(300n * SERVING_PRICE, 1000n);
  const records = (from, count) => Array.from({ length: count }, (_, i) => ({
    seq: from + i, model, promptTokens: tokens.prompt, completionTokens: tokens.completion, fee,
    request: u8aToHex(new Uint8Array(32).fill((from + i) % 256)),
  }));
  const normal = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
  const block = api.consts.system.blockWeights.maxBlock.refTime.toBigInt();

  const measure = async (label, batch) => {
    const tx = api.tx.inference.settle(batch);
    const size = tx.toU8a().length;
    const outcome = await submit(api, tx, charlie, { until: 'inBlock', timeoutMs: 600_000 });
    const success = outcome.events.find(({ event }) => api.events.system.ExtrinsicSuccess.is(event));
    assert.ok(success, `the settlement failed: ${outcome.events.map((e) => e.event.method).join(', ')}`);
    // Settled { provider, keys, records, fees }: by position, as `keys` is also a method of the event's data.
    const [, keys, settledRecords] = outcome.events.find(({ event }) => api.events.inference.Settled.is(event)).event.data;
    const weight = success.event.data.dispatchInfo.weight.refTime.toBigInt();
    const share = Number((weight * 10_000n) / normal) / 100;
    const ofBlock = Number((weight * 10_000n) / block) / 100;
    console.log(`${label}: ${settledRecords.toNumber()} records of ${keys.toNumber()} keys settled in one block, `
      + `${(Number(weight) / 1e9).toFixed(1)} ms of weight, ${ofBlock}% of the block's weight (${share}% of its normal class), ${(size / 1024).toFixed(0)} KiB`);
  };

  console.log(`==> settlements of ${RECORDS} records`);
  await measure('one key', [{ key: signedKey(users[0]), records: records(1, RECORDS) }]);
  const per = Math.floor(RECORDS / USERS);
  const batch = users.map((u, i) => ({ key: signedKey(u), records: records(1, per + (i < RECORDS % USERS ? 1 : 0)) }));
  await measure(`${USERS} users`, batch);
} finally {
  await ticker.stop();
  if (trainer) await trainer.cleanup();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
