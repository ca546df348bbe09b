// Polling helpers shared by the end-to-end tests.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves with the first truthy value of `check()`, polled every 200 ms; throws after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
