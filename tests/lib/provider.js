// Starts the real compute-provider daemon and runs the contributor CLI for end-to-end tests.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort } from './node.js';

/** The directory holding openledger-provider and openledger: $OPENLEDGER_BIN or the release build. */
export function binDir() {
  if (process.env.OPENLEDGER_BIN) return process.env.OPENLEDGER_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'openledger', 'target');
  return join(target, 'release');
}

/**
 * Starts a provider daemon for the node on `rpcPort`, signing with `suri`, with a fresh data
 * directory (or `dataDir`, to restart one). Resolves once its HTTP API answers.
 */
export async function startProvider({
  rpcPort,
  suri = '//Ferdie',
  port,
  dataDir,
  bond = '1000',
  price = '0.5',
  concurrency = 4,
  maxBlobBytes = 4096,
  pollMs = 1000,
  offers = [{ kind: 'contribution-validation', price }],
  baseModelsDir,
  serving,
}) {
  const dir = await mkdtemp(join(tmpdir(), 'openledger-provider-'));
  const listen = port ?? (await freePort());
  const data = dataDir ?? join(dir, 'data');
  const config = join(dir, 'provider.toml');
  await writeFile(join(dir, 'key'), `${suri}\n`, { mode: 0o600 });
  await writeFile(
    config,
    [
      `chain_rpc = "ws://127.0.0.1:${rpcPort}"`,
      'key_file = "key"',
      `listen = "127.0.0.1:${listen}"`,
      `public_url = "http://127.0.0.1:${listen}"`,
      `data_dir = "${data}"`,
      `bond = "${bond}"`,
      `max_blob_bytes = ${maxBlobBytes}`,
      `poll_interval_ms = ${pollMs}`,
      'claim_grace_secs = 1',
      `concurrency = ${concurrency}`,
      'log_format = "json"',
      'allow_private_storage = true',
      ...(baseModelsDir ? [`base_models_dir = "${baseModelsDir}"`] : []),
      '[hardware]',
      'cpu_cores = 2',
      'memory_mib = 4096',
      ...offers.flatMap((o) => ['[[offers]]', `kind = "${o.kind}"`, `price = "${o.price}"`]),
      // OpenLoRA: `serving` is the [serving] section, its values written as TOML.
      ...(serving ? ['[serving]', ...Object.entries(serving).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)] : []),
    ].join('\n'),
  );
  const logs = [];
  const child = spawn(join(binDir(), 'openledger-provider'), ['--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    logs.push(...chunk.toString().split('\n').filter(Boolean));
    if (logs.length > 1000) logs.splice(0, logs.length - 1000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${listen}`;

  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const outcome = await Promise.race([exited, sleep(40_000).then(() => null)]);
    if (!outcome) {
      child.kill('SIGKILL');
      await exited;
    }
    return outcome;
  };
  const cleanup = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the provider exited with ${child.exitCode}\n${logs.slice(-40).join('\n')}`);
    }
    try {
      const response = await fetch(`${url}/v1/status`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(`the provider did not come up\n${logs.slice(-40).join('\n')}`);
    }
    await sleep(200);
  }
  const status = async () => (await fetch(`${url}/v1/status`)).json();
  return { url, port: listen, dataDir: data, logs, exited, stop, cleanup, status };
}

/** Runs the `openledger` CLI, with `input` on its standard input if given; resolves with its exit code, stdout and stderr. */
export function cli(args, { input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(join(binDir(), 'openledger'), args, { timeout: 180_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * Seals a block every `intervalMs` on a manual-sealing node until `stop()`. `requestedAt(hash)`
 * is the wall-clock time (ms) at which the block with that hash was asked for: block timestamps
 * of a development chain follow slots, not the clock.
 */
export function blockTicker(api, intervalMs) {
  let running = true;
  const requested = new Map();
  const done = (async () => {
    while (running) {
      const at = Date.now();
      try {
        const created = await api.rpc.engine.createBlock(true, true);
        requested.set(created.blockHash.toHex(), at);
      } catch {
        // The node is stopping, or a block was sealed concurrently.
      }
      await sleep(intervalMs);
    }
  })();
  return {
    requestedAt: (hash) => requested.get(hash),
    stop: async () => {
      running = false;
      await done;
    },
  };
}
