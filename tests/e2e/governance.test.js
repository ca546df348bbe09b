// OPEN governance on a development chain (manual sealing, governance at its fast pace): whole
// referenda on the grants and protocol-parameters tracks, with conviction votes from several
// accounts, an OpenCircle grant approved, a milestone submitted, accepted and paid, and the
// refusals a user meets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { accounts, balances, OPEN } from '../lib/chain.js';
import { startNode } from '../lib/node.js';

const DOC = `0x${'d0'.repeat(32)}`;
const DELIVERABLE = `0x${'0a'.repeat(32)}`;

describe('OPEN governance and OpenCircle grants', () => {
  let node;
  let api;
  let who;

  /** Seals one block and waits until the node reports it. */
  async function seal() {
    await api.rpc.engine.createBlock(true, true);
  }

  /**
   * Signs and sends each `[tx, signer]`, seals them into one block, and returns per transaction
   * its events, fee and error name (`section.Name`, or null when it succeeded).
   */
  async function send(...pairs) {
    const results = pairs.map(([tx, signer]) => new Promise((resolve, reject) => {
      tx.signAndSend(signer, ({ status, events, dispatchError }) => {
        if (status.isInvalid || status.isDropped) reject(new Error(`transaction ${status.type}`));
        // Sealing finalizes at once, so a transaction may go straight to Finalized.
        if (!status.isInBlock && !status.isFinalized) return;
        let error = null;
        if (dispatchError) {
          if (dispatchError.isModule) {
            const { section, name } = api.registry.findMetaError(dispatchError.asModule);
            error = `${section}.${name}`;
          } else {
            error = dispatchError.toString();
          }
        }
        const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
        resolve({ events, error, fee: paid ? paid.event.data.actualFee.toBigInt() : 0n });
      }).catch(reject);
    }));
    for (let i = 0; i < 100; i += 1) {
      if ((await api.rpc.author.pendingExtrinsics()).length >= pairs.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await seal();
    return Promise.all(results);
  }

  /** Sends one transaction that must succeed. */
  async function ok(tx, signer) {
    const [result] = await send([tx, signer]);
    assert.equal(result.error, null, `${tx.method.section}.${tx.method.method} failed`);
    return result;
  }

  /** Seals blocks until `done()` holds, at most `max` of them; returns how many it sealed. */
  async function sealUntil(done, max = 80) {
    for (let n = 0; n < max; n += 1) {
      if (await done()) return n;
      await seal();
    }
    assert.fail(`the condition did not hold within ${max} blocks`);
  }

  /**
   * Runs a whole referendum: Alice submits `call` for `origin` and places the decision deposit,
   * the voters vote with conviction, and blocks are sealed until the referendum is approved and
   * `enacted()` holds. Returns the referendum's index.
   */
  async function referendum(origin, call, enacted) {
    const index = (await api.query.referenda.referendumCount()).toNumber();
    await ok(api.tx.referenda.submit(origin, { Inline: call.method.toHex() }, { After: 1 }), who.alice);
    await ok(api.tx.referenda.placeDecisionDeposit(index), who.alice);
    const vote = (aye, conviction, balance) => api.tx.convictionVoting.vote(index, {
      Standard: { vote: { aye, conviction }, balance },
    });
    const votes = await send(
      [vote(true, 'Locked1x', 100_000_000n * OPEN), who.investors],
      [vote(true, 'Locked3x', 100_000_000n * OPEN), who.team],
      [vote(true, 'Locked2x', 500_000n * OPEN), who.bob],
      [vote(false, 'None', 100_000n * OPEN), who.charlie],
    );
    for (const { error } of votes) assert.equal(error, null);
    const tally = (await api.query.referenda.referendumInfoFor(index)).unwrap().asOngoing.tally;
    assert.equal(tally.ayes.toBigInt(), (100n + 300n + 1n) * 1_000_000n * OPEN);
    assert.equal(tally.nays.toBigInt(), 10_000n * OPEN, 'no conviction counts a tenth');
    assert.equal(tally.support.toBigInt(), 200_500_000n * OPEN);
    await sealUntil(async () => (await api.query.referenda.referendumInfoFor(index)).unwrap().isApproved);
    await sealUntil(enacted);
    return index;
  }

  const application = async (id) => (await api.call.grantsApi.application(id)).unwrapOr(null);

  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
    api = node.api;
    const all = await accounts();
    who = {
      ...all,
      investors: all.keyring.addFromUri('//One'),
      grantee: all.dave,
    };
    // The investor and team allocations are locked by vesting; their fee float pays for their
    // votes with the locked balance, with no top-up.
  });
  after(async () => {
    if (node) await node.stop();
  });

  test('has the OpenGov tracks, at the fast pace of a development chain', async () => {
    // Track names are fixed-size, padded with zero bytes.
    const tracks = api.consts.referenda.tracks.map(([id, info]) => [
      id.toNumber(), info.name.toString().replace(/\0+$/, ''),
    ]);
    assert.deepEqual(tracks, [
      [0, 'root'], [1, 'protocol_parameters'], [10, 'treasurer'], [11, 'small_spender'],
      [12, 'medium_spender'], [13, 'big_spender'], [20, 'grants_exploration'],
      [21, 'grants_building'], [22, 'grants_expansion'],
    ]);
    assert.equal((await api.query.origins.governancePace()).toString(), 'Fast');
  });

  test('a referendum on the Exploration track approves a grant, and another pays its milestone', async () => {
    const { grantee } = who;
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const id = (await api.query.grants.nextApplicationId()).toNumber();
    const milestones = [
      { amount: 10_000n * OPEN, description: 'Datanet explorer prototype', due: head + 1_000 },
      { amount: 20_000n * OPEN, description: 'Datanet explorer release', due: head + 2_000 },
    ];
    const [submitted] = await send([
      api.tx.grants.submit('Exploration', 'Datanet explorer', DOC, milestones), grantee,
    ]);
    assert.equal(submitted.error, null);
    const stored = await application(id);
    assert.equal(stored.status.toString(), 'Submitted');
    assert.equal(stored.amount.toBigInt(), 30_000n * OPEN);
    assert.equal(stored.milestones.length, 2);
    const potBefore = (await api.call.grantsApi.pot()).toJSON();

    await referendum({ Origins: 'GrantsExploration' }, api.tx.grants.approve(id), async () => (
      (await application(id)).status.isApproved
    ));
    const pot = await api.call.grantsApi.pot();
    assert.equal(pot.earmarked.toBigInt(), 30_000n * OPEN);
    assert.equal(BigInt(potBefore.free) - pot.free.toBigInt(), 30_000n * OPEN);

    // A milestone from anyone but the grantee is refused and changes nothing.
    const [forged] = await send([api.tx.grants.submitMilestone(id, 0, DELIVERABLE), who.eve]);
    assert.equal(forged.error, 'grants.NotGrantee');
    assert.equal((await application(id)).milestones[0].status.toString(), 'Pending');

    await ok(api.tx.grants.submitMilestone(id, 0, DELIVERABLE), grantee);
    assert.ok((await application(id)).milestones[0].status.isSubmitted);
    const before = await balances(api, grantee.address);
    await referendum({ Origins: 'GrantsExploration' }, api.tx.grants.acceptMilestone(id, 0), async () => (
      (await application(id)).milestones[0].status.isPaid
    ));
    const after = await balances(api, grantee.address);
    assert.equal(after.free - before.free, 10_000n * OPEN, 'the grantee received exactly the milestone');
    const stillEarmarked = (await api.call.grantsApi.pot()).earmarked.toBigInt();
    assert.equal(stillEarmarked, 20_000n * OPEN);

    // Paying the same milestone again would pay beyond the approved amount: even root is refused.
    const [again] = await send([api.tx.sudo.sudo(api.tx.grants.acceptMilestone(id, 0)), who.alice]);
    const sudid = again.events.find(({ event }) => api.events.sudo.Sudid.is(event)).event.data.sudoResult;
    assert.ok(sudid.isErr);
    const { section, name } = api.registry.findMetaError(sudid.asErr.asModule);
    assert.equal(`${section}.${name}`, 'grants.MilestoneAlreadyPaid');
    assert.equal((await balances(api, grantee.address)).free, after.free);
    assert.equal((await api.call.grantsApi.pot()).earmarked.toBigInt(), 20_000n * OPEN);
  });

  test('a referendum on the protocol-parameters track changes a datanets parameter', async () => {
    const key = { Datanets: { RejectionSlash: null } };
    assert.ok((await api.query.parameters.parameters(key)).isNone, 'the default applies until set');
    await referendum(
      { Origins: 'ProtocolParameters' },
      api.tx.parameters.setParameter({ Datanets: { RejectionSlash: [null, 200_000_000] } }),
      async () => (await api.query.parameters.parameters(key)).isSome,
    );
    const value = (await api.query.parameters.parameters(key)).unwrap();
    assert.equal(value.asDatanets.asRejectionSlash.toNumber(), 200_000_000, 'now 20%');
  });

  test('refuses an application above its tier cap, a parameter change by a user, and a vote beyond the voter\'s OPEN', async () => {
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const nextId = (await api.query.grants.nextApplicationId()).toNumber();
    const held = (await balances(api, who.eve.address)).held;
    const [aboveCap] = await send([
      api.tx.grants.submit('Exploration', 'Too big', DOC, [
        { amount: 50_001n * OPEN, description: 'everything', due: head + 100 },
      ]),
      who.eve,
    ]);
    assert.equal(aboveCap.error, 'grants.AboveTierCap');
    assert.equal((await api.query.grants.nextApplicationId()).toNumber(), nextId);
    assert.equal((await balances(api, who.eve.address)).held, held, 'no deposit was taken');

    const [byUser] = await send([
      api.tx.parameters.setParameter({ Datanets: { RejectionSlash: [null, 0] } }), who.eve,
    ]);
    assert.equal(byUser.error, 'BadOrigin');

    const index = (await api.query.referenda.referendumCount()).toNumber();
    await ok(api.tx.referenda.submit(
      { Origins: 'SmallSpender' },
      { Inline: api.tx.treasury.spendLocal(OPEN, who.eve.address).method.toHex() },
      { After: 1 },
    ), who.alice);
    const eveTotal = (await balances(api, who.eve.address)).free + held;
    const [tooMuch] = await send([
      api.tx.convictionVoting.vote(index, {
        Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: eveTotal + OPEN },
      }),
      who.eve,
    ]);
    assert.equal(tooMuch.error, 'convictionVoting.InsufficientFunds');
    const info = (await api.query.referenda.referendumInfoFor(index)).unwrap().asOngoing;
    assert.equal(info.tally.ayes.toBigInt(), 0n, 'the vote was not counted');
  });
});
