// Starts and stops real openledger-node processes for end-to-end tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { ApiPromise, WsProvider } from '@polkadot/api';

/** The node binary: $OPENLEDGER_NODE, or the release build in $CARGO_TARGET_DIR. */
export function nodeBinary() {
  if (process.env.OPENLEDGER_NODE) return process.env.OPENLEDGER_NODE;
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'openledger', 'target');
  return join(target, 'release', 'openledger-node');
}

/** A TCP port that is free on loopback right now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function rpcReady(port, deadline) {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] }),
      });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`the node's RPC on port ${port} did not come up in time`);
}

/** The libp2p peer id of an ed25519 node key given as hex, computed by the node binary itself. */
export async function peerIdOf(nodeKeyHex) {
  const dir = await mkdtemp(join(tmpdir(), 'openledger-key-'));
  try {
    const file = join(dir, 'node-key');
    await writeFile(file, nodeKeyHex);
    return execFileSync(nodeBinary(), ['key', 'inspect-node-key', '--file', file]).toString().trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a node on a fresh temporary base path (or on `keepIn`, which is kept) with free RPC and p2p
 * ports, waits for its RPC and connects @polkadot/api to it. `stop()` disconnects, stops the
 * process and removes the temporary base path.
 */
export async function startNode({ args = [], timeoutMs = 120_000, keepIn } = {}) {
  const basePath = keepIn ?? await mkdtemp(join(tmpdir(), 'openledger-node-'));
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const logs = [];
  const child = spawn(
    nodeBinary(),
    [
      '--base-path', basePath,
      '--rpc-port', String(rpcPort),
      '--port', String(p2pPort),
      '--no-prometheus',
      '--no-telemetry',
      '--no-mdns',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk) => {
    logs.push(...chunk.toString().split('\n').filter(Boolean));
    if (logs.length > 400) logs.splice(0, logs.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));

  let api;
  const stop = async () => {
    if (api) await api.disconnect().catch(() => {});
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (!keepIn) await rm(basePath, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + timeoutMs;
    await Promise.race([
      rpcReady(rpcPort, deadline),
      exited.then((code) => {
        throw new Error(`the node exited with ${code} before serving RPC`);
      }),
    ]);
    api = await ApiPromise.create({ provider: new WsProvider(`ws://127.0.0.1:${rpcPort}`), noInitWarn: true });
  } catch (error) {
    await stop();
    error.message += `\n--- node log ---\n${logs.slice(-60).join('\n')}`;
    throw error;
  }
  return { api, rpcPort, p2pPort, basePath, logs, stop };
}

/** Resolves once `predicate(header)` holds for a new head (best, or finalized with `finalized`). */
export async function waitForHead(api, predicate, { finalized = false, timeoutMs = 90_000 } = {}) {
  const subscribe = finalized ? api.rpc.chain.subscribeFinalizedHeads : api.rpc.chain.subscribeNewHeads;
  let unsubscribe;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${finalized ? 'finalized' : 'best'} head matched in ${timeoutMs} ms`)),
        timeoutMs,
      );
      subscribe((header) => {
        if (predicate(header)) {
          clearTimeout(timer);
          resolve(header);
        }
      }).then((u) => {
        unsubscribe = u;
      }, reject);
    });
  } finally {
    if (unsubscribe) unsubscribe();
  }
}
