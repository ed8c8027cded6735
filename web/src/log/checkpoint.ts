// The log as the page checks it: a checkpoint is a c2sp.org signed note whose key name is the
// log's origin, signed by the server key pinned at joining; a newer checkpoint must extend the
// one remembered, shown by an RFC 9162 consistency proof.

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { EncodingError, concat, fromBase64, fromHex, toHex, utf8 } from "../crypto/bytes.ts";

/** What a checkpoint says: the log, its size, its root. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** Root hash, hex. */
  root: string;
}

/** Why the log cannot be trusted. */
export class LogError extends Error {
  override name = "LogError";
  constructor(
    readonly reason: "unsigned" | "rolled-back" | "forked",
    message: string,
  ) {
    super(message);
  }
}

/** The signed-note key id of an Ed25519 key under `name`. */
function keyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concat(utf8(`${name}\n`), new Uint8Array([1]), publicKey)).slice(0, 4);
}

/** Verifies a checkpoint note for `origin`, signed by `publicKey`, and reads it. */
export function verifyCheckpoint(note: string, origin: string, publicKey: Uint8Array): Checkpoint {
  const unsigned = (why: string) => new LogError("unsigned", why);
  const split = note.indexOf("\n\n");
  if (split < 0) throw unsigned("the checkpoint is not a signed note");
  const text = note.slice(0, split + 1);
  const id = toHex(keyId(origin, publicKey));
  const signed = note
    .slice(split + 2)
    .split("\n")
    .filter((line) => line.length > 0)
    .some((line) => {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (match?.[1] !== origin || match[2] === undefined) return false;
      let raw: Uint8Array;
      try {
        raw = fromBase64(match[2]);
      } catch (e) {
        if (e instanceof EncodingError) return false;
        throw e;
      }
      return raw.length === 68 && toHex(raw.slice(0, 4)) === id && ed25519.verify(raw.slice(4), utf8(text), publicKey);
    });
  if (!signed) throw unsigned("the checkpoint is not signed by the service's key");
  const [name, size, root] = text.split("\n");
  if (name !== origin || size === undefined || !/^(0|[1-9]\d{0,15})$/.test(size) || root === undefined) {
    throw unsigned("the checkpoint is not for this service's log");
  }
  let rootBytes: Uint8Array;
  try {
    rootBytes = fromBase64(root);
  } catch {
    throw unsigned("the checkpoint's root is not readable");
  }
  if (rootBytes.length !== 32) throw unsigned("the checkpoint's root is not readable");
  return { origin, size: Number(size), root: toHex(rootBytes) };
}

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([1]), left, right));
}

/**
 * Checks that the log of `oldSize` events with `oldRoot` is a prefix of the log of `newSize`
 * events with `newRoot` (RFC 9162 §2.1.4.2); roots and proof hashes in hex.
 */
export function checkConsistency(
  proofHex: string[],
  oldSize: number,
  oldRoot: string,
  newSize: number,
  newRoot: string,
): void {
  if (oldSize > newSize) {
    throw new LogError("rolled-back", `the log shrank from ${oldSize} to ${newSize} events`);
  }
  const forked = () => new LogError("forked", `the log of ${newSize} events does not extend the one seen before`);
  if (oldSize === newSize) {
    if (proofHex.length !== 0 || oldRoot !== newRoot) throw forked();
    return;
  }
  if (oldSize === 0) return;
  let proof: Uint8Array[];
  try {
    proof = proofHex.map(fromHex);
  } catch {
    throw forked();
  }
  if (proof.some((p) => p.length !== 32)) throw forked();
  if ((oldSize & (oldSize - 1)) === 0) proof = [fromHex(oldRoot), ...proof];
  if (proof.length === 0) throw forked();
  // Sizes stay below 2^53; BigInt keeps the shifts exact.
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let [fr, sr] = [proof[0] as Uint8Array, proof[0] as Uint8Array];
  for (const c of proof.slice(1)) {
    if (sn === 0n) throw forked();
    if ((fn & 1n) === 1n || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = node(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || toHex(fr) !== oldRoot || toHex(sr) !== newRoot) throw forked();
}
