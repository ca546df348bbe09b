// Helpers to submit transactions and read OPEN amounts through @polkadot/api.
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aConcat } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady, decodeAddress, mnemonicGenerate } from '@polkadot/util-crypto';

/** 10^18: one OPEN in units. */
export const OPEN = 10n ** 18n;
/** The most a contribution in the tests may cost (`max_cost` of `datanets.contribute`). */
export const MAX_COST = 1_000_000n * OPEN;

/**
 * The commitment that binds a contribution of `hash` to `datanet` by `address`: blake2-256 of the
 * SCALE encoding of (account, datanet as u32, hash), as `pallet_datanets::commitment_of`.
 */
export function commitmentOf(address, datanet, hash) {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, Number(datanet), true);
  return blake2AsHex(u8aConcat(decodeAddress(address), id, hexToU8a(hash)), 256);
}

/** The `datanets.commit` call of `address`'s commitment to contributing `hash` to `datanet`. */
export function commitTx(api, address, datanet, hash) {
  return api.tx.datanets.commit(commitmentOf(address, datanet, hash));
}

/** The URL under which `address` uploads `hash` for `datanet` to a provider's blob store. */
export function blobUrl(base, hash, datanet, address) {
  return `${base}/v1/blobs/${hash}?datanet=${datanet}&contributor=${address}`;
}

/** An sr25519 keyring with the well-known development accounts and a fresh, unfunded account. */
export async function accounts() {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  return {
    keyring,
    alice: keyring.addFromUri('//Alice'),
    bob: keyring.addFromUri('//Bob'),
    charlie: keyring.addFromUri('//Charlie'),
    dave: keyring.addFromUri('//Dave'),
    eve: keyring.addFromUri('//Eve'),
    ferdie: keyring.addFromUri('//Ferdie'),
    team: keyring.addFromUri('//Two'),
    fresh: () => keyring.addFromMnemonic(mnemonicGenerate()),
  };
}

/** The free and held (reserved) balance of an account, in units, as BigInts. */
export async function balances(api, address) {
  const { data } = await api.query.system.account(address);
  return { free: data.free.toBigInt(), held: data.reserved.toBigInt() };
}

/** The free balance of an account, in units, as a BigInt. */
export async function free(api, address) {
  const { data } = await api.query.system.account(address);
  return data.free.toBigInt();
}

/** Per signer address, the nonce of the last transaction `submit` sent, until it fails. */
const sentNonces = new Map();

/**
 * The nonce for `address`'s next transaction: the node's `accountNextIndex`, but never one already
 * used here. A node that has just put a transaction in a block can still answer that
 * transaction's nonce for a moment (its pool has not yet caught up with the block), and signing
 * with it again would be refused as a replacement of too low a priority. Synchronous after the
 * await, so concurrent submissions from one signer get consecutive nonces.
 */
async function nextNonce(api, address) {
  const next = (await api.rpc.system.accountNextIndex(address)).toNumber();
  const last = sentNonces.get(address);
  const nonce = last === undefined ? next : Math.max(next, last + 1);
  sentNonces.set(address, nonce);
  return nonce;
}

/**
 * Signs and submits `tx`, and resolves when it is in a block (`until: 'inBlock'`) or finalized
 * (the default) with the block hash, its events and the fee paid. Rejects with the module error's
 * name (`section.Name`) if the call failed; that error carries the block hash, events and fee too.
 */
export async function submit(api, tx, signer, { until = 'finalized', timeoutMs = 120_000 } = {}) {
  const nonce = await nextNonce(api, signer.address);
  return new Promise((resolve, reject) => {
    let unsubscribe;
    const timer = setTimeout(() => {
      if (unsubscribe) unsubscribe();
      reject(new Error(`transaction not ${until} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (fn, value) => {
      clearTimeout(timer);
      if (unsubscribe) unsubscribe();
      fn(value);
    };
    tx.signAndSend(signer, { nonce }, (result) => {
      const { status, events, dispatchError } = result;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        // The nonce was not used: the next transaction asks the node again.
        if (sentNonces.get(signer.address) === nonce) sentNonces.delete(signer.address);
        finish(reject, new Error(`transaction ${status.type}`));
        return;
      }
      const done = until === 'inBlock' ? status.isInBlock || status.isFinalized : status.isFinalized;
      if (!done) return;
      const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
      const outcome = {
        blockHash: (status.isInBlock ? status.asInBlock : status.asFinalized).toHex(),
        events,
        fee: paid ? paid.event.data.actualFee.toBigInt() : 0n,
      };
      if (dispatchError) {
        let message = dispatchError.toString();
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          message = `${section}.${name}`;
        } else if (dispatchError.isToken) {
          message = `Token.${dispatchError.asToken.type}`;
        }
        // The failed transaction is still in a block and paid its fee: the error carries both.
        finish(reject, Object.assign(new Error(message), outcome));
        return;
      }
      finish(resolve, outcome);
    })
      .then((u) => {
        unsubscribe = u;
      })
      .catch((error) => {
        if (sentNonces.get(signer.address) === nonce) sentNonces.delete(signer.address);
        finish(reject, error);
      });
  });
}
