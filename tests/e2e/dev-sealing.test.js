// A development chain with instant and manual sealing: chain properties, genesis supply, and a
// transfer of OPEN to a fresh account that pays a non-zero fee.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { accounts, free, OPEN, submit } from '../lib/chain.js';
import { startNode, waitForHead } from '../lib/node.js';

describe('development chain, instant sealing', () => {
  let node;
  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'instant'] });
  });
  after(async () => {
    if (node) await node.stop();
  });

  test('reports the OPEN token in its chain properties', async () => {
    const properties = await node.api.rpc.system.properties();
    assert.deepEqual(properties.tokenSymbol.unwrap().toHuman(), ['OPEN']);
    assert.deepEqual(properties.tokenDecimals.unwrap().toJSON(), [18]);
    assert.equal(properties.ss58Format.unwrap().toNumber(), 42);
    assert.equal(node.api.runtimeVersion.specName.toString(), 'openledger');
  });

  test('holds exactly one billion OPEN at genesis', async () => {
    const issuance = (await node.api.query.balances.totalIssuance()).toBigInt();
    assert.equal(issuance, 1_000_000_000n * OPEN);
  });

  test('transfers OPEN to a fresh account and charges the sender a fee', async () => {
    const { alice, fresh } = await accounts();
    const recipient = fresh();
    const amount = 1_234n * OPEN;
    const aliceBefore = await free(node.api, alice.address);
    assert.equal(await free(node.api, recipient.address), 0n);
    const headBefore = (await node.api.rpc.chain.getHeader()).number.toNumber();

    const { fee, blockHash } = await submit(
      node.api,
      node.api.tx.balances.transferKeepAlive(recipient.address, amount),
      alice,
    );

    assert.ok(fee > 0n, 'the sender paid a fee');
    assert.equal(await free(node.api, recipient.address), amount);
    assert.equal(await free(node.api, alice.address), aliceBefore - amount - fee);
    const block = await node.api.rpc.chain.getHeader(blockHash);
    assert.ok(block.number.toNumber() > headBefore, 'the transfer was sealed in a new block');
    const finalized = await node.api.rpc.chain.getFinalizedHead();
    const finalizedNumber = (await node.api.rpc.chain.getHeader(finalized)).number.toNumber();
    assert.ok(finalizedNumber >= block.number.toNumber(), 'instant sealing finalizes at once');
  });

  test('refuses a transfer of more than the sender has', async () => {
    const { bob, fresh } = await accounts();
    const recipient = fresh();
    const bobBefore = await free(node.api, bob.address);
    const error = await submit(node.api, node.api.tx.balances.transferKeepAlive(recipient.address, bobBefore + OPEN), bob)
      .then(() => assert.fail('the transfer went through'), (e) => e);
    assert.equal(error.message, 'Token.FundsUnavailable');
    assert.ok(error.fee > 0n);
    assert.equal(await free(node.api, bob.address), bobBefore - error.fee);
    assert.equal(await free(node.api, recipient.address), 0n);
  });

  test('keeps vested team tokens locked before the cliff', async () => {
    const { team, fresh } = await accounts();
    const recipient = fresh();
    const total = await free(node.api, team.address);
    assert.equal(total, 150_000_000n * OPEN);
    // All but the 100 OPEN fee float is locked: the float pays the fee, 101 OPEN cannot move.
    const error = await submit(node.api, node.api.tx.balances.transferKeepAlive(recipient.address, 101n * OPEN), team)
      .then(() => assert.fail('the transfer went through'), (e) => e);
    assert.equal(error.message, 'Token.Frozen');
    assert.ok(error.fee > 0n);
    assert.equal(await free(node.api, team.address), total - error.fee);
    assert.equal(await free(node.api, recipient.address), 0n);
  });
});

describe('development chain, manual sealing', () => {
  let node;
  before(async () => {
    node = await startNode({ args: ['--dev', '--sealing', 'manual'] });
  });
  after(async () => {
    if (node) await node.stop();
  });

  test('produces and finalizes blocks only when asked', async () => {
    const start = (await node.api.rpc.chain.getHeader()).number.toNumber();
    assert.equal(start, 0);
    for (let i = 0; i < 3; i += 1) {
      await node.api.rpc.engine.createBlock(true, true);
    }
    const head = await waitForHead(node.api, (h) => h.number.toNumber() >= 3, { timeoutMs: 30_000 });
    assert.equal(head.number.toNumber(), 3);
    const finalized = await node.api.rpc.chain.getHeader(await node.api.rpc.chain.getFinalizedHead());
    assert.equal(finalized.number.toNumber(), 3);
  });
});
