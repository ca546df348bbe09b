// ModelFactory end to end on a real node with a real provider daemon and the `openledger` CLI: a
// datanet of JSON Lines contributions from two accounts, a published version with an access fee,
// `openledger train` on the tiny model, the model registered with its provenance read through
// `api.call.modelsApi.provenance`, the artifact fetched by its hash; a LoRA adapter of the real
// SmolLM2-135M trained the same way; the contributors' access-fee claims to the unit; then refusals of bad input that cost nothing but the fee, a result for
// another version refused with the job left open, and an abandoned job refunded in full.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { blake2AsHex } from '@polkadot/util-crypto';

import { accounts, balances, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, cli } from '../lib/provider.js';
import { publishedDatanet, splittingSeed, startTrainer } from '../lib/training.js';

const TRAINING_PRICE = 5n * OPEN;
// SmolLM2's GGUF, as scripts/fetch-models.sh leaves it.
const MODEL_CACHE = process.env.MODEL_CACHE ?? join(homedir(), '.cache', 'openledger', 'models');
const ACCESS_FEE = 2n * OPEN;
const EVAL_PPM = 300_000;

/** Six contributions of JSON Lines, three by each contributor. */
const contributions = Array.from({ length: 6 }, (_, i) =>
  [
    JSON.stringify({ text: `Datanet fact ${i}: contributors are paid when models trained on their data are used.` }),
    JSON.stringify({ prompt: `Question ${i}: who is paid for data? `, completion: `Answer ${i}: the contributors.` }),
    JSON.stringify({ text: `Line ${i}: a version freezes accepted contributions under a Merkle root.` }),
  ].join('\n') + '\n',
);

/** Every event of blocks `from..=to`. */
async function eventsBetween(api, from, to) {
  const all = [];
  for (let n = from; n <= to; n += 1) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) all.push(event);
  }
  return all;
}

const best = async (api) => (await api.rpc.chain.getHeader()).number.toNumber();

/** The fees `address` paid in blocks `from..=to`. */
async function feesPaid(api, address, from, to) {
  return (await eventsBetween(api, from, to))
    .filter((e) => api.events.transactionPayment.TransactionFeePaid.is(e) && e.data.who.toString() === address)
    .reduce((sum, e) => sum + e.data.actualFee.toBigInt(), 0n);
}

const LORA = { rank: 8, alpha: 16, targets: ['Query', 'Value'] };
const hyperparameters = (overrides = {}) => ({
  method: { Lora: LORA },
  epochs: 1,
  maxSteps: 30,
  learningRate: 10_000,
  warmupSteps: 3,
  batchSize: 4,
  sequenceLength: 32,
  evalFraction: EVAL_PPM,
  seed: 0,
  ...overrides,
});

describe('ModelFactory on a development chain', () => {
  let node;
  let api;
  let keys;
  let ticker;
  let provider;
  let dir;
  let seed;
  let model;
  let job;
  const ws = () => `ws://127.0.0.1:${node.rpcPort}`;

  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
    api = node.api;
    api.registry.register({
      ModelsFileRef: { contentHash: 'H256', length: 'u64' },
      ModelsMetrics: {
        trainLossFirst: 'u32',
        trainLossLast: 'u32',
        evalLossBase: 'u32',
        evalLossTrained: 'u32',
        tokens: 'u64',
        steps: 'u32',
        wallTimeMs: 'u64',
      },
      ModelsTrainingRecords: {
        manifest: 'ModelsFileRef',
        trainedRoot: 'H256',
        trained: 'u32',
        corpusIndex: 'ModelsFileRef',
        features: 'Option<ModelsFileRef>',
      },
      ModelsTrainingResult: {
        artifact: 'ModelsFileRef',
        metrics: 'ModelsMetrics',
        trainingSet: { versions: 'Vec<(u32, u32, H256)>', splitSeed: 'u64' },
        records: 'ModelsTrainingRecords',
      },
    });
    keys = await accounts();
    ticker = blockTicker(api, 500);
    dir = await mkdtemp(join(tmpdir(), 'openledger-models-'));
    provider = await startTrainer(api, node.rpcPort, MODEL_CACHE);
    const hashes = await publishedDatanet({
      api,
      ws: ws(),
      provider,
      dir,
      contributions,
      contributor: (i) => (i % 2 === 0 ? '//Bob' : '//Dave'),
      metadata: { name: 'Datanet facts', description: 'Q&A about datanets', tags: ['qa'], kind: 'Text', licence: 'CC-BY-4.0' },
      accessFee: ACCESS_FEE,
    });
    seed = splittingSeed(hashes, EVAL_PPM);
  });

  after(async () => {
    if (provider) await provider.cleanup();
    if (ticker) await ticker.stop();
    if (node) await node.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('openledger train: the provider trains the tiny model and the chain records its lineage', async () => {
    const { eve, ferdie } = keys;
    const from = await best(api);
    const before = await balances(api, eve.address);
    const out = await cli([
      '--rpc', ws(), '--json', 'train', '--base', 'tiny-byte-gpt', '--source', '0:0', '--rank', '8',
      '--max-steps', '30', '--batch-size', '4', '--sequence-length', '32', '--learning-rate', '0.01',
      '--eval-percent', '30', '--seed', String(seed), '--max-fee', '50', '--name', 'datanet-qa',
      '--suri', '//Eve', '--wait', '170',
    ]);
    assert.equal(out.code, 0, `${out.stderr}\n${provider.logs.slice(-20).join('\n')}`);
    const shown = JSON.parse(out.stdout.trim().split('\n').pop());
    job = shown.job;
    model = shown.model.id;
    assert.equal(shown.model.name, 'datanet-qa');
    assert.equal(shown.model.base_model.name, 'tiny-byte-gpt');
    assert.equal(shown.model.sources.length, 1);
    assert.equal(shown.model.sources[0].contributions.length, 6);
    assert.deepEqual(
      new Set(shown.model.sources[0].contributions.map((c) => c.contributor)),
      new Set([keys.bob.address, keys.dave.address]),
    );

    // The lineage in one runtime API call, as polkadot.js shows it.
    const lineage = (await api.call.modelsApi.provenance(model)).unwrap();
    const version = (await api.call.datanetsApi.version(0, 0)).unwrap();
    assert.equal(lineage.job.toNumber(), job);
    assert.equal(lineage.provider.toString(), ferdie.address);
    assert.equal(lineage.owner.toString(), eve.address);
    assert.equal(lineage.base.name.toUtf8(), 'tiny-byte-gpt');
    assert.equal(lineage.sources.length, 1);
    assert.equal(lineage.sources[0].datanet.toNumber(), 0);
    assert.equal(lineage.sources[0].root.toHex(), version.root.toHex());
    assert.equal(lineage.sources[0].contributions.toNumber(), 6);
    assert.equal(lineage.splitSeed.toNumber(), seed);
    // What training recorded for attribution, each file served by the provider's blob store
    // under the hash the chain holds: the manifest lists all six contributions once, trained or
    // held out, and the corpus index holds the trained ones.
    const records = lineage.records.unwrap();
    const blob = async (file) => {
      const response = await fetch(`${provider.url}/v1/blobs/${file.contentHash.toHex()}`);
      assert.equal(response.status, 200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.equal(blake2AsHex(bytes, 256), file.contentHash.toHex());
      assert.equal(bytes.length, file.length.toNumber());
      return bytes;
    };
    const manifest = JSON.parse(new TextDecoder().decode(await blob(records.manifest)));
    assert.equal(manifest.trained.length + manifest.held_out.length, 6);
    assert.equal(manifest.skipped.length, 0);
    assert.equal(records.trained.toNumber(), manifest.trained.length);
    assert.ok(manifest.trained.length > 0 && manifest.held_out.length > 0, 'a 30% split of six');
    const index = await blob(records.corpusIndex);
    assert.equal(new TextDecoder().decode(index.slice(0, 8)), 'OLCIDX01');
    const record = (await api.call.modelsApi.model(model)).unwrap();
    assert.ok(record.status.isDraft);
    assert.equal(record.metrics.steps.toNumber() > 0, true);
    assert.ok(record.metrics.evalLossBase.toNumber() > 0);
    assert.ok(record.metrics.trainLossLast.toNumber() < record.metrics.trainLossFirst.toNumber(), 'the training loss falls');
    assert.ok((await api.call.modelsApi.training(job)).isNone, 'the request is settled');

    // The provider's progress report for the job.
    const progress = await (await fetch(`${provider.url}/v1/jobs/${job}`)).json();
    assert.equal(progress.progress.phase, 'done');
    assert.equal(progress.progress.step, record.metrics.steps.toNumber());
    assert.equal((await fetch(`${provider.url}/v1/jobs/999999`)).status, 404);

    // Eve paid the provider's price, the access fee and the model's deposit, and her fees: no more.
    const to = await best(api);
    const events = await eventsBetween(api, from + 1, to);
    const requested = events.find((e) => api.events.models.TrainingRequested.is(e));
    const deposit = requested.data.deposit.toBigInt();
    assert.equal(requested.data.accessFees.toBigInt(), ACCESS_FEE);
    const completed = events.find((e) => api.events.compute.JobCompleted.is(e) && e.data.job.toNumber() === job);
    assert.equal(completed.data.paid.toBigInt(), TRAINING_PRICE);
    const fees = await feesPaid(api, eve.address, from + 1, to);
    const after = await balances(api, eve.address);
    assert.equal(after.held, before.held + deposit);
    assert.equal(after.free, before.free - fees - deposit - ACCESS_FEE - TRAINING_PRICE);
    assert.equal((await api.query.datanets.accessPools(0, 0)).paid.toBigInt(), ACCESS_FEE);
  });

  test('a crafted training job is refused on chain: the provider is neither crashed nor slashed', async () => {
    const { eve, ferdie } = keys;
    // A training payload that claims u32::MAX contributions and a LoRA rank of u32::MAX, sent
    // straight to the job market for 5 OPEN (no access fee paid, no bound checked): only the
    // model registry may create training jobs.
    const crafted = `0x${'ff'.repeat(256)}`;
    const hardware = { cpuCores: 0, memoryMib: 0, gpus: 0, gpuMemoryMib: 0 };
    const before = await balances(api, eve.address);
    const bond = (await api.query.compute.providers(ferdie.address)).unwrap().bond.toBigInt();
    const error = await submit(api, api.tx.compute.createJob('Training', crafted, hardware, 5n * OPEN, 100), eve, { until: 'inBlock' })
      .then(() => assert.fail('the job was created'), (e) => e);
    assert.equal(error.message, 'compute.KindNotPublic');
    const after = await balances(api, eve.address);
    assert.equal(after.free, before.free - error.fee);
    assert.equal(after.held, before.held);
    // The provider runs on, with its bond whole, and answers.
    const record = (await api.query.compute.providers(ferdie.address)).unwrap();
    assert.ok(record.status.isActive);
    assert.equal(record.bond.toBigInt(), bond);
    assert.equal(record.reliability.timedOut.toNumber(), 0);
    assert.equal((await fetch(`${provider.url}/v1/status`)).status, 200);
  });

  test('openledger model fetch downloads the adapter by its hash; model show prints the lineage', async () => {
    const out = await cli(['--rpc', ws(), '--json', 'model', 'fetch', String(model), '-o', join(dir, 'adapter')]);
    assert.equal(out.code, 0, out.stderr);
    const record = (await api.call.modelsApi.model(model)).unwrap();
    const adapter = await readFile(join(dir, 'adapter', 'adapter_model.safetensors'));
    assert.equal(blake2AsHex(adapter, 256), record.artifact.contentHash.toHex());
    assert.equal(BigInt(adapter.length), record.artifact.length.toBigInt());
    const config = JSON.parse(await readFile(join(dir, 'adapter', 'adapter_config.json'), 'utf8'));
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 8);
    assert.deepEqual(config.target_modules, ['q_proj', 'v_proj']);
    // The safetensors header names PEFT's tensors.
    const headerLength = Number(adapter.readBigUInt64LE(0));
    const header = JSON.parse(adapter.subarray(8, 8 + headerLength).toString('utf8'));
    assert.ok(header['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']);

    const shown = await cli(['--rpc', ws(), 'model', 'show', String(model)]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /base model 0 "tiny-byte-gpt"/);
    assert.match(shown.stdout, new RegExp(`training job ${job} by provider ${keys.ferdie.address}`));
    assert.match(shown.stdout, /datanet 0 version 0 root 0x[0-9a-f]{64} \(6 contributions\)/);
    assert.equal((shown.stdout.match(/#\d+ by /g) ?? []).length, 6);
  });

  test('openledger train on SmolLM2-135M: the provider trains a LoRA adapter of the real model', async () => {
    const out = await cli([
      '--rpc', ws(), '--json', 'train', '--base', 'SmolLM2-135M-Instruct', '--source', '0:0', '--rank', '4',
      '--targets', 'q_proj,v_proj,gate_proj', '--max-steps', '3', '--batch-size', '2', '--sequence-length', '32',
      '--learning-rate', '0.002', '--warmup-steps', '1', '--eval-percent', '30', '--seed', String(seed),
      '--max-fee', '50', '--name', 'smollm2-qa', '--suri', '//Eve', '--wait', '300',
    ]);
    assert.equal(out.code, 0, `${out.stderr}\n${provider.logs.slice(-20).join('\n')}`);
    const shown = JSON.parse(out.stdout.trim().split('\n').pop());
    assert.equal(shown.model.base_model.name, 'SmolLM2-135M-Instruct');
    const record = (await api.call.modelsApi.model(shown.model.id)).unwrap();
    const lineage = (await api.call.modelsApi.provenance(shown.model.id)).unwrap();
    assert.ok(lineage.base.architecture.isLlama);
    assert.equal(record.metrics.steps.toNumber(), 3);
    assert.equal(record.metrics.tokens.toNumber(), 3 * 2 * 32);
    // A real language model: far below chance (ln 49,152 = 10.8 nats) on English it never saw.
    const base = record.metrics.evalLossBase.toNumber();
    assert.ok(base > 0 && base < 8_000_000, `held-out loss of the base model ${base / 1e6}`);

    const fetched = await cli(['--rpc', ws(), '--json', 'model', 'fetch', String(shown.model.id), '-o', join(dir, 'smollm2')]);
    assert.equal(fetched.code, 0, fetched.stderr);
    const adapter = await readFile(join(dir, 'smollm2', 'adapter_model.safetensors'));
    assert.equal(blake2AsHex(adapter, 256), record.artifact.contentHash.toHex());
    const header = JSON.parse(adapter.subarray(8, 8 + Number(adapter.readBigUInt64LE(0))).toString('utf8'));
    // Hugging Face's names and shapes: PEFT loads it onto HuggingFaceTB/SmolLM2-135M-Instruct.
    assert.deepEqual(header['base_model.model.model.layers.29.self_attn.q_proj.lora_A.weight'].shape, [4, 576]);
    assert.deepEqual(header['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight'].shape, [192, 4]);
    assert.deepEqual(header['base_model.model.model.layers.7.mlp.gate_proj.lora_B.weight'].shape, [1536, 4]);
    assert.equal(Object.keys(header).filter((k) => k !== '__metadata__').length, 2 * 3 * 30);
    const config = JSON.parse(await readFile(join(dir, 'smollm2', 'adapter_config.json'), 'utf8'));
    assert.deepEqual(config.target_modules, ['q_proj', 'v_proj', 'gate_proj']);
  });

  test('contributors claim the access fee pro rata to their bytes, to the unit', async () => {
    const { bob, dave } = keys;
    const version = (await api.query.datanets.versions(0, 0)).unwrap();
    const total = version.totalBytes.toBigInt();
    // Both training runs on the version paid its access fee.
    const paid = (await api.query.datanets.accessPools(0, 0)).paid.toBigInt();
    assert.equal(paid, 2n * ACCESS_FEE);
    let claimed = 0n;
    for (const [i, text] of contributions.entries()) {
      const who = i % 2 === 0 ? bob : dave;
      const size = BigInt(Buffer.byteLength(text));
      const before = await balances(api, who.address);
      const { events, fee } = await submit(api, api.tx.datanets.claimAccessReward(0, 0, i), who, { until: 'inBlock' });
      const claim = events.find(({ event }) => api.events.datanets.AccessRewardClaimed.is(event)).event.data;
      assert.equal(claim.amount.toBigInt(), (paid * size) / total);
      // The first claim on the version holds the deposit of its record (84 bytes at 0.01 OPEN).
      assert.equal(claim.deposit.toBigInt(), (84n * OPEN) / 100n);
      const after = await balances(api, who.address);
      assert.equal(after.free, before.free - fee + claim.amount.toBigInt() - claim.deposit.toBigInt());
      assert.equal(after.held, before.held + claim.deposit.toBigInt());
      claimed += claim.amount.toBigInt();
    }
    assert.equal((await api.query.datanets.accessPools(0, 0)).claimed.toBigInt(), claimed);
    assert.ok(paid - claimed < 6n, 'at most one unit of dust per contribution stays');
    await assert.rejects(submit(api, api.tx.datanets.claimAccessReward(0, 0, 0), bob, { until: 'inBlock' }), /datanets.NothingToClaim/);
    await assert.rejects(submit(api, api.tx.datanets.claimAccessReward(0, 0, 1), bob, { until: 'inBlock' }), /datanets.NotContributor/);
  });

  test('the owner publishes, reprices and passes on the model; strangers cannot', async () => {
    const { eve, bob } = keys;
    await assert.rejects(submit(api, api.tx.models.publish(model, OPEN, 500_000_000), bob, { until: 'inBlock' }), /models.NotOwner/);
    await assert.rejects(submit(api, api.tx.models.publish(model, OPEN, 50_000_000), eve, { until: 'inBlock' }), /models.ShareBelowMinimum/);
    await submit(api, api.tx.models.publish(model, OPEN, 300_000_000), eve, { until: 'inBlock' });
    const published = (await api.query.models.modelInfo(model)).unwrap().status;
    assert.ok(published.isPublished);
    assert.equal(published.asPublished.pricePer1kTokens.toBigInt(), OPEN);
    const deposit = (await api.query.models.modelInfo(model)).unwrap().deposit.toBigInt();
    const bobBefore = await balances(api, bob.address);
    await submit(api, api.tx.models.offerOwnership(model, bob.address), eve, { until: 'inBlock' });
    const { fee } = await submit(api, api.tx.models.acceptOwnership(model), bob, { until: 'inBlock' });
    const bobAfter = await balances(api, bob.address);
    assert.equal(bobAfter.held, bobBefore.held + deposit);
    assert.equal(bobAfter.free, bobBefore.free - fee - deposit);
    assert.equal((await api.query.models.modelInfo(model)).unwrap().owner.toString(), bob.address);
  });

  test('bad requests get their own errors and cost nothing but the fee', async () => {
    const { alice, eve } = keys;
    // A second datanet, published and then closed.
    const rules = { contributionDeposit: 10n * OPEN, maxContributionSize: 1000n, acceptedFormats: ['JsonLines'], curators: [alice.address], approvalsNeeded: 1 };
    await submit(api, api.tx.datanets.create({ name: 'Closed', description: '', tags: [], kind: 'Text', licence: 'CC0-1.0' }, rules), alice, { until: 'inBlock' });
    await submit(api, api.tx.datanets.close(1), alice, { until: 'inBlock' });
    // A base model registered and retired by governance (sudo on a development chain).
    const base = (await api.query.models.nextBaseModelId()).toNumber();
    const input = { name: 'retired', architecture: 'TinyByteGpt', parameters: 1, contextLength: 128, weights: { contentHash: '0x' + '11'.repeat(32), length: 1 }, tokenizer: null, licence: 'MIT' };
    await submit(api, api.tx.sudo.sudo(api.tx.models.registerBaseModel(input)), alice, { until: 'inBlock' });
    await submit(api, api.tx.sudo.sudo(api.tx.models.retireBaseModel(base)), alice, { until: 'inBlock' });
    await assert.rejects(submit(api, api.tx.models.registerBaseModel(input), eve, { until: 'inBlock' }), /BadOrigin/);

    const train = (overrides) => {
      const a = { base: 0, sources: [[0, 0]], hyperparameters: hyperparameters({ seed }), maxFee: 50n * OPEN, ...overrides };
      return api.tx.models.train(a.base, a.sources, a.hyperparameters, a.maxFee, 'bad', '');
    };
    const cases = [
      [{ base: 9 }, 'models.UnknownBaseModel'],
      [{ base }, 'models.BaseModelRetired'],
      [{ sources: [[0, 5]] }, 'models.UnpublishedVersion'],
      [{ sources: [[7, 0]] }, 'models.UnknownDatanet'],
      [{ sources: [[1, 0]] }, 'models.DatanetClosed'],
      [{ sources: Array.from({ length: 9 }, (_, v) => [0, v]) }, 'models.TooManySources'],
      [{ sources: [] }, 'models.NoSources'],
      [{ hyperparameters: hyperparameters({ method: { Lora: { ...LORA, rank: 65 } } }) }, 'models.RankOutOfBounds'],
      [{ hyperparameters: hyperparameters({ sequenceLength: 129 }) }, 'models.SequenceLengthOutOfBounds'],
      [{ hyperparameters: hyperparameters({ learningRate: 0 }) }, 'models.LearningRateOutOfBounds'],
      // The access fee (2 OPEN) comes out of the max fee: 2 OPEN are left, below the daemon's price.
      [{ maxFee: 4n * OPEN }, 'models.NoProviderAvailable'],
      [{ maxFee: OPEN }, 'models.AccessFeesAboveMaxFee'],
    ];
    for (const [overrides, error] of cases) {
      const before = await balances(api, eve.address);
      const failed = await submit(api, train(overrides), eve, { until: 'inBlock' }).then(
        () => assert.fail(`${error} expected`),
        (e) => e,
      );
      assert.equal(failed.message, error);
      const after = await balances(api, eve.address);
      assert.equal(after.held, before.held, error);
      assert.equal(after.free, before.free - failed.fee, error);
    }
    const unknown = await cli(['--rpc', ws(), 'train', '--base', 'gpt-9', '--source', '0:0', '--max-fee', '50', '--suri', '//Eve']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no base model is named "gpt-9"/);
  });

  test('a result for another version is refused and the job stays open; an abandoned job refunds everything', async () => {
    const { charlie, eve } = keys;
    // Charlie registers as a cheap training provider that the test drives by hand: a job whose
    // fee (4 OPEN less the 2 OPEN access fee) is below the daemon's price can only go to it.
    await submit(api, api.tx.compute.register({ endpoint: 'http://127.0.0.1:9', hardware: { cpuCores: 1, memoryMib: 1, gpus: 0, gpuMemoryMib: 0 }, concurrency: 4, offers: [{ kind: 'Training', price: OPEN }] }, 1000n * OPEN), charlie, { until: 'inBlock' });
    const version = (await api.query.datanets.versions(0, 0)).unwrap();
    const request = async () => {
      const { events } = await submit(api, api.tx.models.train(0, [[0, 0]], hyperparameters({ seed }), 4n * OPEN, 'by-hand', ''), eve, { until: 'inBlock' });
      const requested = events.find(({ event }) => api.events.models.TrainingRequested.is(event)).event.data;
      return requested.job.toNumber();
    };
    const result = (versions) =>
      api.createType('ModelsTrainingResult', {
        artifact: { contentHash: '0x' + '22'.repeat(32), length: 10 },
        metrics: { trainLossFirst: 5_000_000, trainLossLast: 4_000_000, evalLossBase: 5_500_000, evalLossTrained: 4_500_000, tokens: 128, steps: 1, wallTimeMs: 1 },
        trainingSet: { versions, splitSeed: seed },
        records: {
          manifest: { contentHash: '0x' + '44'.repeat(32), length: 10 },
          trainedRoot: '0x' + '55'.repeat(32),
          trained: 1,
          corpusIndex: { contentHash: '0x' + '66'.repeat(32), length: 10 },
          features: null,
        },
      }).toHex();

    const first = await request();
    assert.equal((await api.query.compute.jobs(first)).unwrap().status.asAssigned.provider.toString(), charlie.address);
    await submit(api, api.tx.compute.acceptJob(first), charlie, { until: 'inBlock' });
    const cases = [
      [[[0, 1, version.root]], 'models.WrongTrainingSet'],
      [[[0, 0, '0x' + '33'.repeat(32)]], 'models.RootMismatch'],
      [[], 'models.WrongTrainingSet'],
    ];
    for (const [versions, error] of cases) {
      await assert.rejects(submit(api, api.tx.compute.submitResult(first, result(versions)), charlie, { until: 'inBlock' }), new RegExp(error));
      assert.ok((await api.query.models.trainingRequests(first)).isSome, 'the job stays open');
    }
    const { events } = await submit(api, api.tx.compute.submitResult(first, result([[0, 0, version.root]])), charlie, { until: 'inBlock' });
    assert.ok(events.some(({ event }) => api.events.models.ModelTrained.is(event)));

    // A job its provider gives up, with no other provider at its fee, is abandoned: Eve gets
    // back the job's fee, the access fee and the deposit, and no model is registered.
    const from = await best(api);
    const before = await balances(api, eve.address);
    const models = (await api.query.models.nextModelId()).toNumber();
    const second = await request();
    await submit(api, api.tx.compute.failJob(second), charlie, { until: 'inBlock' });
    const to = await best(api);
    const all = await eventsBetween(api, from + 1, to);
    assert.ok(all.some((e) => api.events.models.TrainingAbandoned.is(e) && e.data.job.toNumber() === second));
    const fees = await feesPaid(api, eve.address, from + 1, to);
    const after = await balances(api, eve.address);
    assert.equal(after.held, before.held);
    assert.equal(after.free, before.free - fees);
    assert.equal((await api.query.models.nextModelId()).toNumber(), models);
    assert.equal((await api.query.datanets.accessPools(0, 0)).pending.toBigInt(), 0n);
  });
});
