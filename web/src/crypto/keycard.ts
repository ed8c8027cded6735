// Key cards: a person's account id, display name and both public keys, self-signed; their
// fingerprint, safety number and key code, computed as the Rust side does.

import { sha256 } from "@noble/hashes/sha2.js";

import { concat, fromBase64, toHex, utf8 } from "./bytes.ts";
import { type SignedStatement, StatementError, open, parseBody } from "./statement.ts";

export const KIND = "key-card" as const;

/** A key card whose self-signature and account id were checked. */
export interface KeyCard {
  accountId: string;
  displayName: string;
  signingKey: Uint8Array;
  ageRecipient: string;
  createdAt: number;
  statement: SignedStatement;
}

/** The account id of an Ed25519 public key: the first 16 bytes of a domain-separated hash. */
export function accountIdFor(publicKey: Uint8Array): string {
  return toHex(sha256(concat(utf8("ferry/v1/account-id\0"), publicKey)).slice(0, 16));
}

/** Verifies a self-signed key card: its keys, its derived account id and its signature. */
export function verifyKeyCard(st: SignedStatement): KeyCard {
  if (st.kind !== KIND) {
    throw new StatementError(`expected a key card, got ${st.kind}`);
  }
  // Self-signed: the key comes from the body, so read it, verify the exact bytes with it,
  // and only then trust anything else in the body.
  const unverified = parseBody(fromBase64(st.body), KIND);
  if (typeof unverified.signing_key !== "string") {
    throw new StatementError("the key card has no signing key");
  }
  const signingKey = fromBase64(unverified.signing_key);
  if (signingKey.length !== 32) {
    throw new StatementError("the key card's signing key is not 32 bytes");
  }
  const body = open<Record<string, unknown>>(st, KIND, signingKey, "account_id");
  const { v, account_id, display_name, age_recipient, created_at } = body;
  if (
    v !== 1 ||
    typeof account_id !== "string" ||
    typeof display_name !== "string" ||
    typeof age_recipient !== "string" ||
    typeof created_at !== "number"
  ) {
    throw new StatementError("the key card's fields are not as expected");
  }
  if (account_id !== accountIdFor(signingKey)) {
    throw new StatementError("the key card's account id does not belong to its key");
  }
  if (!/^age1[02-9ac-hj-np-z]{58}$/.test(age_recipient)) {
    throw new StatementError("the key card's age recipient is not an X25519 recipient");
  }
  return {
    accountId: account_id,
    displayName: display_name,
    signingKey,
    ageRecipient: age_recipient,
    createdAt: created_at,
    statement: st,
  };
}

/** SHA-256 of the account id, the signing key and the age recipient (not the name). */
export function fingerprint(card: KeyCard): Uint8Array {
  return sha256(concat(utf8("ferry/v1/fingerprint\0"), utf8(card.accountId), card.signingKey, utf8(card.ageRecipient)));
}

/** Six groups of five digits: group i is bytes 5i..5i+5, big-endian, mod 100000. */
export function safetyNumber(fp: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 6; i++) {
    let n = 0n;
    for (const b of fp.slice(5 * i, 5 * i + 5)) {
      n = (n << 8n) | BigInt(b);
    }
    groups.push((n % 100000n).toString().padStart(5, "0"));
  }
  return groups.join(" ");
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The first 100 bits in Crockford's base 32, four groups of five (the server key's code). */
export function keyCode(fp: Uint8Array): string {
  let symbols = "";
  for (let i = 0; i < 20; i++) {
    const bit = i * 5;
    const pair = ((fp[bit >> 3] ?? 0) << 8) | (fp[(bit >> 3) + 1] ?? 0);
    symbols += CROCKFORD[(pair >> (11 - (bit % 8))) & 31];
  }
  return symbols.match(/.{5}/g)?.join("-") ?? "";
}
