// The datanet version Merkle tree (pallets/datanets/src/merkle.rs), written independently so that
// the tests check the chain's roots and proofs against their documented definition.
import { u8aConcat, hexToU8a, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

const DEPTH = 32;
const hashPair = (left, right) => blake2AsU8a(u8aConcat(left, right), 256);

const zeros = [new Uint8Array(32)];
for (let h = 1; h < DEPTH; h += 1) zeros.push(hashPair(zeros[h - 1], zeros[h - 1]));

function mixInCount(treeRoot, count) {
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(count), true);
  return blake2AsU8a(u8aConcat(treeRoot, length), 256);
}

/** The version root over content hashes (hex strings) in acceptance order. */
export function versionRoot(leaves) {
  let layer = leaves.map((leaf) => hexToU8a(leaf));
  for (let h = 0; h < DEPTH; h += 1) {
    const next = [];
    for (let i = 0; i < layer.length; i += 2) next.push(hashPair(layer[i], layer[i + 1] ?? zeros[h]));
    layer = next.length > 0 ? next : [hashPair(zeros[h], zeros[h])];
  }
  return u8aToHex(mixInCount(layer[0], leaves.length));
}

/** Whether `leaf` sits at `index` of the version of `count` leaves with `root`, by `proof`. */
export function verifyProof(root, count, index, leaf, proof) {
  if (index >= count || proof.length !== DEPTH) return false;
  let node = hexToU8a(leaf);
  proof.forEach((sibling, level) => {
    const s = hexToU8a(sibling);
    node = (index >> level) & 1 ? hashPair(s, node) : hashPair(node, s);
  });
  return u8aToHex(mixInCount(node, count)) === root;
}
