// Making a person's keys and the statements that join them to a service: the key card, the
// enrolment and each login's session, as the CLI makes them.

import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { concat, toBase64, toHex, utf8 } from "./bytes.ts";
import { accountIdFor, type KeyCard, verifyKeyCard } from "./keycard.ts";
import { accountIdOf, type Identity } from "./keystore.ts";
import { bytesSigner, type Signer, signBody } from "./signer.ts";
import type { SignedStatement } from "./statement.ts";

/** Display names: 1–100 characters, no control characters, no space at either end. */
export function checkDisplayName(name: string): string | null {
  const chars = [...name].length;
  if (chars === 0 || chars > 100) return "A name is 1 to 100 characters long.";
  if (name.trim() !== name) return "A name does not start or end with a space.";
  if (/\p{Cc}/u.test(name)) return "A name has no control characters.";
  return null;
}

/** New keys for a person: an Ed25519 signing key and an age X25519 identity. */
export async function newIdentity(label: string, displayName: string): Promise<Identity> {
  return {
    label,
    displayName,
    signingSecret: ed25519.utils.randomSecretKey(),
    ageSecret: await generateX25519Identity(),
  };
}

/** A signer for an identity held in memory. */
export function signerOf(identity: Identity): Signer {
  return bytesSigner(accountIdOf(identity), identity.signingSecret);
}

/** The person's self-signed key card. */
export async function keyCard(identity: Identity, createdAt: number): Promise<KeyCard> {
  const publicKey = ed25519.getPublicKey(identity.signingSecret);
  const body = {
    v: 1,
    account_id: accountIdFor(publicKey),
    display_name: identity.displayName,
    signing_key: toBase64(publicKey),
    age_recipient: await identityToRecipient(identity.ageSecret),
    created_at: createdAt,
  };
  return verifyKeyCard(await signBody(signerOf(identity), "key-card", body));
}

/** The hash under which an invitation code is stored and named. */
export function invitationHash(code: string): string {
  return toHex(sha256(concat(utf8("ferry/v1/invitation-code\0"), utf8(code.trim()))));
}

/** The signed acceptance of an invitation. */
export function enrolment(signer: Signer, code: string, createdAt: number): Promise<SignedStatement> {
  const body = {
    v: 1,
    account_id: signer.accountId,
    invitation: invitationHash(code),
    created_at: createdAt,
  };
  return signBody(signer, "enrolment", body);
}

/** A login: the server's challenge, signed. */
export function session(signer: Signer, challenge: string, createdAt: number): Promise<SignedStatement> {
  const body = { v: 1, account_id: signer.accountId, challenge, created_at: createdAt };
  return signBody(signer, "session", body);
}
