// The load script (tests/bench/load.js, scripts/bench-load.sh), run small on a real development
// node: a burst of transfers, contributions, curator reviews and votes from many accounts is
// drained by sealing blocks, and no transaction is lost, refused or failed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { LOAD_NODE_ARGS, runLoad } from '../bench/load.js';
import { startNode } from '../lib/node.js';

describe('load: a burst of mixed transactions', () => {
  let node;

  before(async () => {
    node = await startNode({ args: LOAD_NODE_ARGS });
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('every transaction pushed into the pool is included, none fails, none is lost', async () => {
    const mix = { accounts: 24, transfers: 240, contributions: 48, reviews: 24, votes: 30 };
    const totals = await runLoad(node.api, mix);
    assert.equal(totals.submitted, 240 + 48 + 24 + 30);
    assert.deepEqual(totals.refusals, {});
    assert.equal(totals.refused, 0);
    assert.equal(totals.failed, 0);
    assert.equal(totals.lost, 0);
    assert.equal(totals.included, totals.submitted);
    // The reviews accepted their contributions; the contributions are in the datanet.
    const datanet = (await node.api.query.datanets.nextDatanetId()).toNumber() - 1;
    const info = (await node.api.query.datanets.datanetInfo(datanet)).unwrap();
    assert.equal(info.contributions.toNumber(), 24 + 48);
  });
});
