// The real consensus path: Aura authors a block every six-second slot and GRANDPA finalizes it,
// with one validator (`--dev`) and with the three validators of the `local` network.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { accounts, free, OPEN, submit } from '../lib/chain.js';
import { peerIdOf, startNode, waitForHead } from '../lib/node.js';

describe('Aura + GRANDPA, one validator', () => {
  let node;
  before(async () => {
    node = await startNode({ args: ['--dev'] });
  });
  after(async () => {
    if (node) await node.stop();
  });

  test('authors blocks in slots and finalizes them', async () => {
    const best = await waitForHead(node.api, (h) => h.number.toNumber() >= 2, { timeoutMs: 60_000 });
    assert.ok(best.number.toNumber() >= 2);
    const finalized = await waitForHead(node.api, (h) => h.number.toNumber() >= 1, {
      finalized: true,
      timeoutMs: 60_000,
    });
    assert.ok(finalized.number.toNumber() >= 1);
    // Six-second slots: each block's timestamp lies in its Aura slot, and later blocks take later slots.
    const at = async (n) => {
      const state = await node.api.at(await node.api.rpc.chain.getBlockHash(n));
      return { slot: (await state.query.aura.currentSlot()).toNumber(), now: (await state.query.timestamp.now()).toNumber() };
    };
    const [first, second] = [await at(1), await at(2)];
    for (const block of [first, second]) assert.equal(Math.floor(block.now / 6_000), block.slot);
    assert.ok(second.slot > first.slot);
    assert.equal(node.api.consts.aura.slotDuration.toNumber(), 6_000);
  });

  test('finalizes a transfer that pays a fee', async () => {
    const { alice, fresh } = await accounts();
    const recipient = fresh();
    const before = await free(node.api, alice.address);
    const { fee } = await submit(node.api, node.api.tx.balances.transferKeepAlive(recipient.address, 5n * OPEN), alice);
    assert.ok(fee > 0n);
    assert.equal(await free(node.api, recipient.address), 5n * OPEN);
    assert.equal(await free(node.api, alice.address), before - 5n * OPEN - fee);
  });
});

describe('Aura + GRANDPA, three validators (local)', () => {
  const nodes = [];
  before(async () => {
    const aliceKey = randomBytes(32).toString('hex');
    const alice = await startNode({ args: ['--chain', 'local', '--alice', '--node-key', aliceKey] });
    nodes.push(alice);
    const bootnode = `/ip4/127.0.0.1/tcp/${alice.p2pPort}/p2p/${await peerIdOf(aliceKey)}`;
    for (const who of ['--bob', '--charlie']) {
      const key = randomBytes(32).toString('hex');
      nodes.push(await startNode({ args: ['--chain', 'local', who, '--node-key', key, '--bootnodes', bootnode] }));
    }
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  test('every validator authors and all three finalize together', async () => {
    const [alice, bob, charlie] = nodes;
    const authorities = await alice.api.query.aura.authorities();
    assert.equal(authorities.length, 3);
    // GRANDPA with three voters needs all three: finality proves the network is whole.
    await Promise.all(
      nodes.map((n) => waitForHead(n.api, (h) => h.number.toNumber() >= 3, { finalized: true, timeoutMs: 120_000 })),
    );
    const hash = await alice.api.rpc.chain.getBlockHash(3);
    assert.equal((await bob.api.rpc.chain.getBlockHash(3)).toHex(), hash.toHex());
    assert.equal((await charlie.api.rpc.chain.getBlockHash(3)).toHex(), hash.toHex());
  });
});
