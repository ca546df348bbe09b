// The compute market end to end on a real node with a real provider daemon and the contributor
// CLI: registration, uploads, validation jobs found by the daemon on chain, executed and paid;
// refusals of bad input; a node that never calls a registered endpoint; a restart that resumes an
// accepted job; and a stopped provider whose job times out, is refunded and costs it part of its
// bond.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { blake2AsHex } from '@polkadot/util-crypto';

import { accounts, balances, blobUrl, commitmentOf, commitTx, MAX_COST, OPEN, submit } from '../lib/chain.js';
import { startNode } from '../lib/node.js';
import { blockTicker, cli, startProvider } from '../lib/provider.js';
import { waitFor } from '../lib/wait.js';

const PRICE = OPEN / 2n;
const VALIDATION_FEE = OPEN;
const BOND = 1000n * OPEN;
const DEPOSIT = 10n * OPEN;

const GOOD = '{"prompt":"What is a datanet?","answer":"A curated dataset."}\n{"prompt":"Who is paid?","answer":"Contributors."}\n';
const CORRUPT = '{"prompt":"ok","answer":"fine"}\n{"prompt":"broken", "answer":\n';

/** Every event of blocks `from..=to` with the block's number, hash and timestamp. */
async function eventsBetween(api, from, to) {
  const all = [];
  for (let n = from; n <= to; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const at = await api.at(hash);
    const [records, now] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
    for (const { event } of records) all.push({ n, hash: hash.toHex(), time: now.toNumber(), event });
  }
  return all;
}

const best = async (api) => (await api.rpc.chain.getHeader()).number.toNumber();

describe('compute providers on a development chain', () => {
  let node;
  let api;
  let keys;
  let ticker;
  let provider;
  let dir;
  const ws = () => `ws://127.0.0.1:${node.rpcPort}`;

  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
    api = node.api;
    keys = await accounts();
    ticker = blockTicker(api, 500);
    dir = await mkdtemp(join(tmpdir(), 'openledger-compute-'));
    const { alice, charlie } = keys;
    const rules = {
      contributionDeposit: DEPOSIT,
      maxContributionSize: 1n << 20n,
      acceptedFormats: ['JsonLines'],
      curators: [charlie.address],
      approvalsNeeded: 1,
    };
    const metadata = { name: 'Instructions', description: 'Q&A pairs', tags: ['qa'], kind: 'Text', licence: 'CC-BY-4.0' };
    await submit(api, api.tx.datanets.create(metadata, rules), alice, { until: 'inBlock' });
    await submit(api, api.tx.datanets.create({ ...metadata, name: 'Slow store' }, rules), alice, { until: 'inBlock' });
  });

  after(async () => {
    if (provider) await provider.cleanup();
    if (ticker) await ticker.stop();
    if (node) await node.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the daemon registers, validates a good and a corrupt upload, and is paid', async () => {
    const { alice, ferdie } = keys;
    const start = await best(api);
    provider = await startProvider({ rpcPort: node.rpcPort, suri: '//Ferdie' });
    const registered = await waitFor('registration', async () => {
      const p = await api.query.compute.providers(ferdie.address);
      return p.isSome && p.unwrap();
    });
    assert.equal(registered.bond.toBigInt(), BOND);
    assert.equal(registered.endpoint.toUtf8(), provider.url);
    assert.deepEqual((await api.query.compute.providersByKind('ContributionValidation')).map((l) => l.provider.toString()), [ferdie.address]);
    await submit(api, api.tx.datanets.setServices(0, [provider.url], { fee: VALIDATION_FEE, autoReject: true }), alice, { until: 'inBlock' });

    const ferdieBefore = await balances(api, ferdie.address);
    const from = await best(api);
    const good = join(dir, 'good.jsonl');
    const corrupt = join(dir, 'corrupt.jsonl');
    await writeFile(good, GOOD);
    await writeFile(corrupt, CORRUPT);
    const contribute = (file) =>
      cli(['--rpc', ws(), '--json', 'contribute', '--datanet', '0', '--file', file, '--format', 'json-lines', '--suri', '//Bob', '--wait', '60']);

    const first = await contribute(good);
    assert.equal(first.code, 0, first.stderr);
    const valid = JSON.parse(first.stdout.trim().split('\n').pop());
    assert.equal(valid.hash, blake2AsHex(GOOD, 256));
    assert.equal(valid.outcome, 'Valid');
    assert.equal(valid.score, 100);
    assert.match(valid.status, /^pending/);
    assert.equal(valid.reason, '2 JSON lines');

    const second = await contribute(corrupt);
    assert.equal(second.code, 0, second.stderr);
    const bad = JSON.parse(second.stdout.trim().split('\n').pop());
    assert.equal(bad.outcome, 'Malformed');
    assert.equal(bad.score, 50);
    assert.match(bad.reason, /^1 of 2 lines parse; line 2:/);
    // The datanet rejects failed contributions automatically.
    assert.match(bad.status, /^removed/);
    assert.ok((await api.query.datanets.contributions(0, bad.contribution)).isNone);

    // On chain: the first report is kept for curators.
    const state = (await api.query.datanets.validations(0, valid.contribution)).unwrap();
    assert.ok(state.isDone);
    assert.equal(state.asDone.report.outcome.type, 'Valid');
    assert.equal(state.asDone.report.score.toNumber(), 100);

    // The provider was paid its price for each job, and paid only its own transaction fees.
    const to = await best(api);
    const events = await eventsBetween(api, from + 1, to);
    const completed = events.filter(({ event }) => api.events.compute.JobCompleted.is(event));
    assert.equal(completed.length, 2);
    for (const { event } of completed) {
      assert.equal(event.data.provider.toString(), ferdie.address);
      assert.equal(event.data.paid.toBigInt(), PRICE);
      assert.equal(event.data.refunded.toBigInt(), VALIDATION_FEE - PRICE);
    }
    const fees = events
      .filter(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event) && event.data.who.toString() === ferdie.address)
      .reduce((sum, { event }) => sum + event.data.actualFee.toBigInt(), 0n);
    assert.ok(fees > 0n);
    const ferdieAfter = await balances(api, ferdie.address);
    assert.equal(ferdieAfter.free - ferdieBefore.free, 2n * PRICE - fees);
    const record = (await api.query.compute.providers(ferdie.address)).unwrap();
    assert.equal(record.reliability.completed.toNumber(), 2);

    // Dispatch latency: from the request that sealed the block assigning a job to the daemon
    // seeing it on chain.
    const status = await provider.status();
    const assigned = events.filter(({ event }) => api.events.compute.JobAssigned.is(event));
    assert.equal(assigned.length, 2);
    for (const { event, hash } of assigned) {
      const job = event.data.job.toString();
      const seen = status.jobs[job];
      assert.ok(seen && seen.seen_ms, `job ${job} was seen`);
      const sealed = ticker.requestedAt(hash);
      assert.ok(sealed, 'the ticker sealed the block');
      console.log(`dispatch latency of job ${job}: ${seen.seen_ms - sealed} ms (block sealing requested -> provider saw the job)`);
      assert.equal(seen.state, 'completed');
    }
    assert.ok(start < to);
  });

  test('a blob uploaded on a commitment that is then withdrawn leaves the store', async () => {
    const { eve } = keys;
    const bytes = `bytes parked for free ${Date.now()}`;
    const hash = blake2AsHex(bytes, 256);
    await submit(api, commitTx(api, eve.address, 0, hash), eve, { until: 'inBlock' });
    const response = await fetch(blobUrl(provider.url, hash, 0, eve.address), { method: 'PUT', body: bytes });
    assert.equal(response.status, 201);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${hash}`)).status, 200);
    // The deposit comes back; the bytes must not stay for nothing.
    await submit(api, api.tx.datanets.withdrawCommitment(commitmentOf(eve.address, 0, hash)), eve, { until: 'inBlock' });
    const deadline = Date.now() + 20_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await fetch(`${provider.url}/v1/blobs/${hash}`)).status;
    }
    assert.equal(status, 404);
  });

  test('bad input gets a clear error and loses nothing', async () => {
    const { bob, ferdie, eve } = keys;
    // An upload that names no contributor.
    const wrong = blake2AsHex('something else', 256);
    let response = await fetch(`${provider.url}/v1/blobs/${wrong}`, { method: 'PUT', body: 'the real bytes' });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /names its datanet and contributor/);
    // An upload nobody committed to on chain: the store takes no bytes for free.
    response = await fetch(blobUrl(provider.url, wrong, 0, eve.address), { method: 'PUT', body: 'something else' });
    assert.equal(response.status, 403);
    assert.match((await response.json()).error, /commit first/);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${wrong}`)).status, 404);
    // Bytes that do not match the claimed hash, under a commitment to that hash.
    await submit(api, commitTx(api, bob.address, 0, wrong), bob, { until: 'inBlock' });
    response = await fetch(blobUrl(provider.url, wrong, 0, bob.address), { method: 'PUT', body: 'the real bytes' });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /hash to 0x[0-9a-f]{64}, not to the claimed/);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${wrong}`)).status, 404);
    await submit(api, api.tx.datanets.withdrawCommitment(commitmentOf(bob.address, 0, wrong)), bob, { until: 'inBlock' });
    // An oversized upload (the daemon takes 4096 bytes).
    const big = 'x'.repeat(5000);
    response = await fetch(blobUrl(provider.url, blake2AsHex(big, 256), 0, bob.address), { method: 'PUT', body: big });
    assert.equal(response.status, 413);
    assert.match((await response.json()).error, /more than the limit of 4096/);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${blake2AsHex(big, 256)}`)).status, 404);
    // The CLI reports the refusal, contributes nothing and takes its commitment back.
    const file = join(dir, 'big.jsonl');
    await writeFile(file, `${JSON.stringify({ text: big })}\n`);
    const bobBefore = await balances(api, bob.address);
    const contributionsBefore = (await api.query.datanets.datanetInfo(0)).unwrap().contributions.toNumber();
    const run = await cli(['--rpc', ws(), 'contribute', '--datanet', '0', '--file', file, '--format', 'json-lines', '--suri', '//Bob']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /refused the upload \(413 Payload Too Large\)/);
    assert.equal((await api.query.datanets.datanetInfo(0)).unwrap().contributions.toNumber(), contributionsBefore);
    assert.equal((await balances(api, bob.address)).held, bobBefore.held);
    assert.equal((await api.query.datanets.commitments.keys(bob.address)).length, 0);

    // A client that never finishes its headers is cut off (after 5 s), not served forever.
    const started = Date.now();
    const closedAfter = await new Promise((resolve, reject) => {
      const socket = connect(provider.port, '127.0.0.1', () => socket.write('GET /v1/status HTTP/1.1\r\nHost: x\r\n'));
      socket.on('error', () => {});
      socket.on('close', () => resolve(Date.now() - started));
      setTimeout(() => { socket.destroy(); reject(new Error('the slow client was never cut off')); }, 20_000);
    });
    assert.ok(closedAfter >= 4_000 && closedAfter < 15_000, `cut off after ${closedAfter} ms`);

    // One host cannot take every connection: beyond 16 at once it is answered 429 at once, while
    // another address is served; a body sent a byte a second is answered 408.
    const idle = await Promise.all(Array.from({ length: 16 }, () => new Promise((resolve) => {
      const socket = connect(provider.port, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => {});
    })));
    try {
      await sleep(200);
      const refusedAnswer = await new Promise((resolve) => {
        let text = '';
        const socket = connect(provider.port, '127.0.0.1');
        socket.on('data', (chunk) => { text += chunk; });
        socket.on('error', () => {});
        socket.on('close', () => resolve(text));
      });
      assert.match(refusedAnswer, /^HTTP\/1\.1 429/);
      assert.match(refusedAnswer, /at most 16 connections at once from one client/);
      const other = await new Promise((resolve, reject) => {
        const socket = connect({ port: provider.port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => socket.write('GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => { text += chunk; });
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      assert.match(other, /^HTTP\/1\.1 200/);
    } finally {
      for (const socket of idle) socket.destroy();
    }
    const slowBytes = 'x'.repeat(4000);
    const slowHash = blake2AsHex(slowBytes, 256);
    await submit(api, commitTx(api, bob.address, 0, slowHash), bob, { until: 'inBlock' });
    const target = new URL(blobUrl(provider.url, slowHash, 0, bob.address));
    const trickleStarted = Date.now();
    const trickled = await new Promise((resolve) => {
      let text = '';
      const socket = connect(provider.port, '127.0.0.1', () => {
        socket.write(`PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n`);
      });
      const drip = setInterval(() => socket.write('x'), 1000);
      socket.on('data', (chunk) => { text += chunk; });
      socket.on('error', () => {});
      socket.on('close', () => { clearInterval(drip); resolve(text); });
      setTimeout(() => socket.destroy(), 40_000);
    });
    assert.match(trickled, /^HTTP\/1\.1 408/);
    assert.match(trickled, /too slowly/);
    assert.ok(Date.now() - trickleStarted < 30_000);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${slowHash}`)).status, 404);
    await submit(api, api.tx.datanets.withdrawCommitment(commitmentOf(bob.address, 0, slowHash)), bob, { until: 'inBlock' });

    // The daemon takes no work from the network: there is nothing to notify (jobs are only read).
    const ferdieNonce = (await api.rpc.system.accountNextIndex(ferdie.address)).toNumber();
    response = await fetch(`${provider.url}/v1/jobs/notify`, { method: 'POST', body: JSON.stringify({ jobs: [0] }) });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET,HEAD');
    await sleep(1500);
    assert.equal((await api.rpc.system.accountNextIndex(ferdie.address)).toNumber(), ferdieNonce);
  });

  test('the node never calls the endpoint a provider registers', async () => {
    const { dave, eve } = keys;
    // Dave registers a service on this machine's loopback as his endpoint, with a query that
    // would swallow any path appended to it, and offers inference (nobody else does).
    const calls = [];
    const trap = createServer((request, response) => {
      calls.push(`${request.method} ${request.url}`);
      response.end();
    });
    await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${trap.address().port}/admin?x=`;
    try {
      const input = {
        endpoint,
        hardware: { cpuCores: 2, memoryMib: 4096, gpus: 0, gpuMemoryMib: 0 },
        concurrency: 2,
        offers: [{ kind: 'Inference', price: PRICE }],
      };
      await submit(api, api.tx.compute.register(input, BOND), dave, { until: 'inBlock' });
      const eveBefore = await balances(api, eve.address);
      const { events } = await submit(api, api.tx.compute.createJob('Inference', '0x01', input.hardware, OPEN, 100), eve, { until: 'inBlock' });
      const assigned = events.find(({ event }) => api.events.compute.JobAssigned.is(event));
      assert.ok(assigned, 'the job was assigned');
      assert.equal(assigned.event.data.provider.toString(), dave.address);
      const job = assigned.event.data.job.toNumber();
      // The fee left Eve's account for the escrow.
      const eveAfter = await balances(api, eve.address);
      assert.equal(eveAfter.held, eveBefore.held);
      assert.ok(eveBefore.free - eveAfter.free > OPEN);
      // Blocks go by; nothing reaches the endpoint.
      const from = await best(api);
      await waitFor('three more blocks', async () => (await best(api)) >= from + 3);
      assert.deepEqual(calls, []);

      // Another account cannot act for the assigned provider.
      await assert.rejects(submit(api, api.tx.compute.acceptJob(job), eve, { until: 'inBlock' }), /compute\.NotAssignee/);
      await assert.rejects(submit(api, api.tx.compute.submitResult(job, '0x00'), eve, { until: 'inBlock' }), /compute\.NotAssignee/);
      // Dave gives it up: with no other inference provider the fee goes back whole.
      const eveBeforeRefund = await balances(api, eve.address);
      const gaveUp = await submit(api, api.tx.compute.failJob(job), dave, { until: 'inBlock' });
      const abandoned = gaveUp.events.find(({ event }) => api.events.compute.JobAbandoned.is(event));
      assert.equal(abandoned.event.data.refunded.toBigInt(), OPEN);
      assert.equal((await balances(api, eve.address)).free, eveBeforeRefund.free + OPEN);
      assert.deepEqual(calls, []);
    } finally {
      trap.close();
    }
  });

  test('locked OPEN cannot pay a job to one\'s own provider', async () => {
    const { charlie, keyring } = keys;
    const hardware = { cpuCores: 0, memoryMib: 0, gpus: 0, gpuMemoryMib: 0 };
    // Dave, registered above, serves inference for 0.5 OPEN. `//One` holds the investor allocation, all
    // of it vesting but a 100 OPEN fee float.
    const investor = keyring.addFromUri('//One');
    const refused = async (who, fee) => {
      const before = await balances(api, who.address);
      const error = await submit(api, api.tx.compute.createJob('Inference', '0x02', hardware, fee, 100), who, { until: 'inBlock' })
        .then(() => assert.fail('the job was created'), (e) => e);
      assert.equal(error.message, 'Token.FundsUnavailable');
      const after = await balances(api, who.address);
      assert.equal(after.free, before.free - error.fee);
      assert.equal(after.held, before.held);
    };
    await refused(investor, 1_000_000n * OPEN);
    await refused(investor, 101n * OPEN);

    // Charlie puts his whole balance behind a vote, then tries to move it out through a job.
    const remark = api.tx.system.remark('0x01');
    const { events } = await submit(api, api.tx.referenda.submit({ system: 'Root' }, { Inline: remark.method.toHex() }, { After: 1 }), charlie, { until: 'inBlock' });
    const index = events.find(({ event }) => api.events.referenda.Submitted.is(event)).event.data.index.toNumber();
    const { free, held } = await balances(api, charlie.address);
    const stake = free + held - OPEN;
    await submit(api, api.tx.convictionVoting.vote(index, { Standard: { vote: { aye: true, conviction: 'Locked6x' }, balance: stake } }), charlie, { until: 'inBlock' });
    const { data } = await api.query.system.account(charlie.address);
    assert.equal(data.frozen.toBigInt(), stake);
    await refused(charlie, 10n * OPEN);
  });

  test('a restarted daemon resumes the job it had accepted', async () => {
    const { alice, bob, ferdie } = keys;
    // A storage endpoint that holds its answers until released.
    const bytes = Buffer.from(GOOD.replace('datanet', 'version'));
    const hash = blake2AsHex(bytes, 256);
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let requests = 0;
    const slow = createServer(async (req, res) => {
      requests += 1;
      if (req.url !== `/v1/blobs/${hash}`) { res.writeHead(404).end(); return; }
      await released;
      res.writeHead(200).end(bytes);
    });
    await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${slow.address().port}`;
    try {
      await submit(api, api.tx.datanets.setServices(1, [slowUrl], { fee: VALIDATION_FEE, autoReject: false }), alice, { until: 'inBlock' });
      const from = await best(api);
      await submit(api, commitTx(api, bob.address, 1, hash), bob, { until: 'inBlock' });
      const outcome = await submit(api, api.tx.datanets.contribute(1, hash, bytes.length, 'JsonLines', MAX_COST), bob, { until: 'inBlock' });
      // Datanet 1 names another store: this provider takes none of its bytes, recorded or not.
      const upload = await fetch(blobUrl(provider.url, hash, 1, bob.address), { method: 'PUT', body: bytes });
      assert.equal(upload.status, 403);
      assert.match((await upload.json()).error, /does not name this provider/);
      assert.equal((await fetch(`${provider.url}/v1/blobs/${hash}`)).status, 404);
      const requested = outcome.events.find(({ event }) => api.events.datanets.ValidationRequested.is(event));
      const job = requested.event.data.job.toNumber();
      await waitFor('acceptance', async () => {
        const j = await api.query.compute.jobs(job);
        return j.isSome && j.unwrap().status.isAccepted;
      });
      await waitFor('the fetch', async () => requests > 0);
      // Killed mid-job: no chance to finish.
      await provider.stop('SIGKILL');
      release();
      provider = await startProvider({ rpcPort: node.rpcPort, suri: '//Ferdie', port: provider.port, dataDir: provider.dataDir });
      const state = await waitFor('the resumed job\'s report', async () => {
        const v = await api.query.datanets.validations(1, 0);
        return v.isSome && v.unwrap().isDone && v.unwrap();
      });
      assert.equal(state.asDone.report.outcome.type, 'Valid');
      const events = await eventsBetween(api, from + 1, await best(api));
      const of = (name) => events.filter(({ event }) => api.events.compute[name].is(event) && event.data.job.toNumber() === job);
      assert.equal(of('JobAccepted').length, 1, 'accepted once, before the restart');
      assert.equal(of('JobCompleted').length, 1);
      assert.equal(of('JobCompleted')[0].event.data.provider.toString(), ferdie.address);
    } finally {
      slow.close();
    }
  });

  test('the blobs of a datanet that stops naming the provider leave its store', async () => {
    const { alice } = keys;
    const bytes = GOOD.replace('curated', 'kept, then dropped');
    const hash = blake2AsHex(bytes, 256);
    await submit(api, api.tx.datanets.setServices(1, [provider.url], { fee: VALIDATION_FEE, autoReject: false }), alice, { until: 'inBlock' });
    const file = join(dir, 'dropped.jsonl');
    await writeFile(file, bytes);
    const run = await cli(['--rpc', ws(), '--json', 'contribute', '--datanet', '1', '--file', file, '--format', 'json-lines', '--suri', '//Bob', '--wait', '60']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout.trim().split('\n').pop()).outcome, 'Valid');
    assert.equal((await fetch(`${provider.url}/v1/blobs/${hash}`)).status, 200);
    // Recorded and named, it stays through sweeps.
    await sleep(3000);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${hash}`)).status, 200);
    // The datanet moves its data elsewhere: this provider no longer keeps it, but keeps datanet 0's.
    await submit(api, api.tx.datanets.setServices(1, ['http://127.0.0.1:9'], { fee: VALIDATION_FEE, autoReject: false }), alice, { until: 'inBlock' });
    const status = await waitFor('the dropped blob to leave the store', async () => {
      const s = (await fetch(`${provider.url}/v1/blobs/${hash}`)).status;
      return s === 404 && s;
    }, 30_000);
    assert.equal(status, 404);
    assert.equal((await fetch(`${provider.url}/v1/blobs/${blake2AsHex(GOOD, 256)}`)).status, 200);
  });

  test('with the provider stopped, the job times out, is refunded and the bond slashed', async () => {
    const { bob, eve, ferdie } = keys;
    const exit = await provider.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, 'a graceful shutdown');
    const bytes = '{"late":true}\n';
    const bobBefore = await balances(api, bob.address);
    const committed = await submit(api, commitTx(api, bob.address, 0, blake2AsHex(bytes, 256)), bob, { until: 'inBlock' });
    const outcome = await submit(api, api.tx.datanets.contribute(0, blake2AsHex(bytes, 256), bytes.length, 'JsonLines', MAX_COST), bob, { until: 'inBlock' });
    const job = outcome.events.find(({ event }) => api.events.datanets.ValidationRequested.is(event)).event.data.job.toNumber();
    const from = await best(api);
    assert.equal((await api.query.compute.jobs(job)).unwrap().status.asAssigned.provider.toString(), ferdie.address);
    const contribution = outcome.events.find(({ event }) => api.events.datanets.Contributed.is(event)).event.data.contribution.toNumber();
    // Nobody else can take it over.
    await assert.rejects(submit(api, api.tx.compute.acceptJob(job), eve, { until: 'inBlock' }), /compute.NotAssignee/);
    await assert.rejects(submit(api, api.tx.compute.submitResult(job, '0x00'), eve, { until: 'inBlock' }), /compute.NotAssignee/);

    await waitFor('the timeout', async () => (await api.query.compute.jobs(job)).isNone, 120_000);
    const events = await eventsBetween(api, from, await best(api));
    const find = (name) => events.find(({ event }) => api.events.compute[name].is(event));
    assert.equal(find('JobTimedOut').event.data.provider.toString(), ferdie.address);
    const slashed = find('ProviderSlashed').event.data;
    assert.equal(slashed.amount.toBigInt(), BOND / 20n);
    assert.equal(slashed.bond.toBigInt(), BOND - BOND / 20n);
    const abandoned = find('JobAbandoned').event.data;
    assert.equal(abandoned.reason.type, 'NoProvider');
    assert.equal(abandoned.refunded.toBigInt(), VALIDATION_FEE);
    // Below the minimum bond, the provider is paused; its reliability counts the miss.
    const record = (await api.query.compute.providers(ferdie.address)).unwrap();
    assert.equal(record.status.type, 'Paused');
    assert.equal(record.reliability.timedOut.toNumber(), 1);
    assert.equal((await balances(api, ferdie.address)).held, BOND - BOND / 20n);
    // The contributor got the whole fee back: only the deposit stays held.
    const bobAfter = await balances(api, bob.address);
    assert.equal(bobAfter.held, bobBefore.held + DEPOSIT);
    assert.equal(bobAfter.free, bobBefore.free - DEPOSIT - committed.fee - outcome.fee);
    const state = (await api.query.datanets.validations(0, contribution)).unwrap();
    assert.ok(state.isUnavailable);
  });
});
