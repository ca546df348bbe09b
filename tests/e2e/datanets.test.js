// Datanets on a real node through @polkadot/api: create, contribute, curate with deposits checked to
// the unit, publish a version and read it back through the runtime API, and refusals of bad input
// that change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { stringToU8a, u8aConcat } from '@polkadot/util';
import { blake2AsHex, encodeAddress } from '@polkadot/util-crypto';

import { accounts, balances, commitmentOf, commitTx, MAX_COST, OPEN, submit } from '../lib/chain.js';
import { versionRoot, verifyProof } from '../lib/merkle.js';
import { startNode } from '../lib/node.js';

/** The account of a pallet pot: "modl" ++ its 8-byte id, zero-padded to 32 bytes. */
const potAccount = (id) => encodeAddress(u8aConcat(stringToU8a('modl'), stringToU8a(id), new Uint8Array(20)), 42);
const REWARDS_POT = potAccount('ol/rwrds');
const DEPOSIT = 10n * OPEN;

const metadata = (name = 'Web3 instruction data') => ({
  name,
  description: 'Instruction and answer pairs about smart contracts',
  tags: ['web3', 'instructions'],
  kind: 'Text',
  licence: 'CC-BY-4.0',
});
const rules = (curators, approvalsNeeded, overrides = {}) => ({
  contributionDeposit: DEPOSIT,
  maxContributionSize: 1n << 20n,
  acceptedFormats: ['JsonLines', 'PlainText'],
  curators: curators.map((c) => c.address),
  approvalsNeeded,
  ...overrides,
});

const eventOf = (api, outcome, name) => {
  const found = outcome.events.find(({ event }) => api.events.datanets[name].is(event));
  assert.ok(found, `event datanets.${name}`);
  return found.event.data;
};

describe('datanets on a development chain', () => {
  let node;
  let api;
  let keys;
  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'instant'] });
    api = node.api;
    keys = await accounts();
  });
  after(async () => {
    if (node) await node.stop();
  });

  test('create, contribute, curate, publish a version and read it back', async () => {
    const { alice, bob, charlie, dave, eve } = keys;
    const fees = new Map();
    const send = async (tx, signer) => {
      const outcome = await submit(api, tx, signer);
      fees.set(signer.address, (fees.get(signer.address) ?? 0n) + outcome.fee);
      return outcome;
    };
    const aliceBefore = await balances(api, alice.address);
    const bobBefore = await balances(api, bob.address);
    const potBefore = await balances(api, REWARDS_POT);

    const created = eventOf(api, await send(api.tx.datanets.create(metadata(), rules([charlie, dave, eve], 2)), alice), 'Created');
    const id = created.datanet.toNumber();
    const datanetDeposit = created.deposit.toBigInt();
    assert.ok(datanetDeposit > 0n);

    const items = [
      { who: alice, bytes: '{"prompt":"What is a datanet?","answer":"A curated dataset."}\n' },
      { who: alice, bytes: 'lorem ipsum\n' },
      { who: bob, bytes: '{"prompt":"Who pays contributors?","answer":"Proof of Attribution."}\n' },
    ];
    for (const item of items) {
      item.hash = blake2AsHex(item.bytes, 256);
      const size = stringToU8a(item.bytes).length;
      // The commitment goes first, in a block of its own; its deposit comes back at the reveal.
      await send(commitTx(api, item.who.address, id, item.hash), item.who);
      const data = eventOf(api, await send(api.tx.datanets.contribute(id, item.hash, size, 'JsonLines', MAX_COST), item.who), 'Contributed');
      item.id = data.contribution.toNumber();
      assert.equal(data.deposit.toBigInt(), DEPOSIT);
    }

    // Two curators of three accept the first and third; two reject the second.
    for (const curator of [charlie, dave]) {
      await send(api.tx.datanets.review(id, items[0].id, 'Accept'), curator);
    }
    for (const curator of [charlie, dave]) {
      await send(api.tx.datanets.review(id, items[2].id, 'Accept'), curator);
    }
    await send(api.tx.datanets.review(id, items[1].id, { Reject: 'LowQuality' }), charlie);
    const rejected = eventOf(api, await send(api.tx.datanets.review(id, items[1].id, { Reject: 'OffTopic' }), dave), 'Rejected');
    assert.equal(rejected.reason.toString(), 'OffTopic');
    assert.equal(rejected.slashed.toBigInt(), DEPOSIT / 10n);
    assert.equal(rejected.returned.toBigInt(), DEPOSIT - DEPOSIT / 10n);

    // Deposits to the unit: the accepted stakes stay held, a tenth of the rejected one went to the pot.
    const aliceAfter = await balances(api, alice.address);
    const bobAfter = await balances(api, bob.address);
    assert.equal(aliceAfter.held, aliceBefore.held + datanetDeposit + DEPOSIT);
    assert.equal(aliceAfter.free, aliceBefore.free - fees.get(alice.address) - datanetDeposit - DEPOSIT - DEPOSIT / 10n);
    assert.equal(bobAfter.held, bobBefore.held + DEPOSIT);
    assert.equal(bobAfter.free, bobBefore.free - fees.get(bob.address) - DEPOSIT);
    assert.equal((await balances(api, REWARDS_POT)).free, potBefore.free + DEPOSIT / 10n);

    // A version freezes the two accepted contributions, in acceptance order.
    const published = eventOf(api, await send(api.tx.datanets.publishVersion(id), eve), 'VersionPublished');
    const expectedRoot = versionRoot([items[0].hash, items[2].hash]);
    assert.equal(published.root.toHex(), expectedRoot);

    const version = (await api.call.datanetsApi.version(id, 0)).unwrap();
    assert.equal(version.contributions.toNumber(), 2);
    assert.equal(version.root.toHex(), expectedRoot);
    assert.equal(version.totalBytes.toNumber(), stringToU8a(items[0].bytes).length + stringToU8a(items[2].bytes).length);
    assert.equal(version.publishedBy.toString(), eve.address);

    const entries = await api.call.datanetsApi.versionContributions(id, 0, 0, 100);
    assert.deepEqual(
      entries.map((e) => [e.position.toNumber(), e.contribution.toNumber(), e.contentHash.toHex()]),
      [
        [0, items[0].id, items[0].hash],
        [1, items[2].id, items[2].hash],
      ],
    );
    for (const entry of entries) {
      const proof = (await api.call.datanetsApi.contributionProof(id, 0, entry.position)).unwrap();
      assert.ok(verifyProof(expectedRoot, 2, entry.position.toNumber(), entry.contentHash.toHex(), proof.map((p) => p.toHex())));
    }
    const paged = await api.call.datanetsApi.versionContributions(id, 0, 1, 1);
    assert.deepEqual(paged.map((e) => e.contentHash.toHex()), [items[2].hash]);

    const datanet = (await api.call.datanetsApi.datanet(id)).unwrap();
    assert.equal(datanet.owner.toString(), alice.address);
    assert.deepEqual([datanet.contributions.toNumber(), datanet.pending.toNumber(), datanet.accepted.toNumber(), datanet.versions.toNumber()], [3, 0, 2, 1]);
    const accepted = (await api.call.datanetsApi.contribution(id, items[0].id)).unwrap();
    assert.ok(accepted.status.isAccepted);
    assert.ok((await api.call.datanetsApi.contribution(id, items[1].id)).isNone);

    const record = await api.call.datanetsApi.contributor(alice.address);
    assert.deepEqual(record.reputation.toJSON(), { submitted: 2, accepted: 1, rejected: 1, slashed: 0, stored: 1 });
    const inDatanet = await api.call.datanetsApi.contributorIn(id, bob.address);
    assert.deepEqual(inDatanet.toJSON(), { submitted: 1, accepted: 1, rejected: 0, slashed: 0, stored: 1 });
  });

  test('refuses bad input with a clear error and changes nothing', async () => {
    const { alice, bob, charlie, dave, eve } = keys;
    const created = eventOf(api, await submit(api, api.tx.datanets.create(metadata('Refusals'), rules([charlie], 1)), alice), 'Created');
    const id = created.datanet.toNumber();
    const pendingHash = blake2AsHex('pending item', 256);
    await submit(api, commitTx(api, bob.address, id, pendingHash), bob);
    await submit(api, api.tx.datanets.contribute(id, pendingHash, 12, 'PlainText', MAX_COST), bob);

    /** Submits `tx`, expects `error`, and checks that only the fee left the signer. */
    const refused = async (tx, signer, error) => {
      const before = await balances(api, signer.address);
      const stateBefore = (await api.call.datanetsApi.datanet(id)).toJSON();
      const nextBefore = (await api.query.datanets.nextDatanetId()).toNumber();
      const failure = await submit(api, tx, signer).then(
        () => assert.fail(`expected ${error}`),
        (e) => e,
      );
      assert.equal(failure.message, error);
      assert.ok(failure.fee > 0n);
      const after = await balances(api, signer.address);
      assert.equal(after.free, before.free - failure.fee);
      assert.equal(after.held, before.held);
      assert.deepEqual((await api.call.datanetsApi.datanet(id)).toJSON(), stateBefore);
      assert.equal((await api.query.datanets.nextDatanetId()).toNumber(), nextBefore);
    };

    await refused(api.tx.datanets.create(metadata('n'.repeat(65)), rules([charlie], 1)), alice, 'datanets.NameTooLong');
    await refused(api.tx.datanets.create({ ...metadata(), description: 'd'.repeat(1025) }, rules([charlie], 1)), alice, 'datanets.DescriptionTooLong');
    await refused(api.tx.datanets.contribute(id, pendingHash, 12, 'PlainText', MAX_COST), eve, 'datanets.DuplicateContent');
    await refused(api.tx.datanets.contribute(id, blake2AsHex('too big', 256), (1n << 20n) + 1n, 'PlainText', MAX_COST), eve, 'datanets.ContributionTooLarge');
    await refused(api.tx.datanets.review(id, 0, 'Accept'), eve, 'datanets.NotCurator');
    await refused(api.tx.datanets.review(id, 0, 'Accept'), alice, 'datanets.NotCurator');

    await submit(api, api.tx.datanets.close(id), alice);
    await refused(api.tx.datanets.contribute(id, blake2AsHex('late', 256), 4, 'PlainText', MAX_COST), eve, 'datanets.DatanetClosed');

    // Rate limit: 10 GiB of contributions per account and day. Ten of 1 GiB fill it.
    const big = eventOf(api, await submit(api, api.tx.datanets.create(metadata('Large files'), rules([charlie], 1, { contributionDeposit: 4n * OPEN, maxContributionSize: 1n << 30n })), eve), 'Created');
    const bigId = big.datanet.toNumber();
    const parts = Array.from({ length: 10 }, (_, i) => blake2AsHex(`part ${i}`, 256));
    await submit(api, api.tx.utility.batchAll([...parts, blake2AsHex('one more', 256)].map((h) => commitTx(api, dave.address, bigId, h))), dave);
    const calls = parts.map((h) => api.tx.datanets.contribute(bigId, h, 1n << 30n, 'JsonLines', MAX_COST));
    await submit(api, api.tx.utility.batchAll(calls), dave);
    const record = await api.call.datanetsApi.contributor(dave.address);
    assert.equal(record.usage.bytes.toBigInt(), 10n << 30n);
    const beforeLimit = (await api.call.datanetsApi.datanet(bigId)).unwrap().contributions.toNumber();
    await refused(api.tx.datanets.contribute(bigId, blake2AsHex('one more', 256), 1, 'JsonLines', MAX_COST), dave, 'datanets.RateLimitedBytes');
    assert.equal((await api.call.datanetsApi.datanet(bigId)).unwrap().contributions.toNumber(), beforeLimit);
  });

  test('a copier who saw the bytes cannot contribute them before their contributor', async () => {
    const { alice, bob, charlie, eve } = keys;
    const created = eventOf(api, await submit(api, api.tx.datanets.create(metadata('Originals'), rules([charlie], 1)), alice), 'Created');
    const id = created.datanet.toNumber();
    const bytes = 'original work\n';
    const hash = blake2AsHex(bytes, 256);
    const contribute = (who) => submit(api, api.tx.datanets.contribute(id, hash, bytes.length, 'PlainText', MAX_COST), who);
    const eveBefore = await balances(api, eve.address);
    let eveFees = 0n;
    const eveSends = async (tx) => { eveFees += (await submit(api, tx, eve)).fee; };

    // Bob commits before his bytes go public: the commitment shows nothing of them.
    await submit(api, commitTx(api, bob.address, id, hash), bob);
    // Eve has seen the bytes. Without a commitment of her own she cannot contribute them...
    await assert.rejects(contribute(eve), (e) => { eveFees += e.fee; return e.message === 'datanets.NotCommitted'; });
    // ...copying Bob's commitment does not help, since it names Bob...
    await eveSends(api.tx.datanets.commit(commitmentOf(bob.address, id, hash)));
    await assert.rejects(contribute(eve), (e) => { eveFees += e.fee; return e.message === 'datanets.NotCommitted'; });
    // ...and her own commitment comes after Bob's, who reveals first.
    await eveSends(commitTx(api, eve.address, id, hash));
    const revealed = eventOf(api, await contribute(bob), 'Contributed');
    assert.equal(revealed.contributor.toString(), bob.address);
    await assert.rejects(contribute(eve), (e) => { eveFees += e.fee; return e.message === 'datanets.DuplicateContent'; });

    // Eve takes back both commitments' deposits: she lost only her fees.
    await eveSends(api.tx.datanets.withdrawCommitment(commitmentOf(bob.address, id, hash)));
    await eveSends(api.tx.datanets.withdrawCommitment(commitmentOf(eve.address, id, hash)));
    const eveAfter = await balances(api, eve.address);
    assert.equal(eveAfter.held, eveBefore.held);
    assert.equal(eveAfter.free, eveBefore.free - eveFees);
  });
});
