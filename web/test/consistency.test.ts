// The page's RFC 9162 consistency check against proofs made by a plain RFC 6962 reference (the
// recursive definitions, written here for the test): every pair of sizes up to 40 accepts its
// proof, and a changed proof hash or root, or a shorter log, is refused.

import { sha256 } from "@noble/hashes/sha2.js";
import { expect, it } from "vitest";

import { concat, toHex } from "../src/crypto/bytes.ts";
import { LogError, checkConsistency } from "../src/log/checkpoint.ts";

const leaf = (i: number) => sha256(concat(new Uint8Array([0]), new Uint8Array([i & 255, i >> 8])));
const node = (l: Uint8Array, r: Uint8Array) => sha256(concat(new Uint8Array([1]), l, r));

/** The largest power of two smaller than n. */
const split = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);

function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const k = split(leaves.length);
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function subproof(m: number, leaves: Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [mth(leaves)];
  const k = split(n);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

it("accepts every honest proof and refuses altered ones", () => {
  const all = Array.from({ length: 40 }, (_, i) => leaf(i));
  for (let n = 1; n <= 40; n++) {
    for (let m = 1; m <= n; m++) {
      const proof = m === n ? [] : subproof(m, all.slice(0, n), true).map(toHex);
      const oldRoot = toHex(mth(all.slice(0, m)));
      const newRoot = toHex(mth(all.slice(0, n)));
      expect(() => checkConsistency(proof, m, oldRoot, n, newRoot), `${m} → ${n}`).not.toThrow();
      if (m === n) continue;
      const altered = [...proof];
      altered[0] = toHex(leaf(999));
      expect(() => checkConsistency(altered, m, oldRoot, n, newRoot)).toThrow(LogError);
      expect(() => checkConsistency(proof, m, toHex(leaf(998)), n, newRoot)).toThrow(LogError);
      expect(() => checkConsistency(proof, m, oldRoot, n, toHex(leaf(997)))).toThrow(LogError);
      expect(() => checkConsistency(proof, n, newRoot, m, oldRoot)).toThrow(/shrank/);
    }
  }
});
