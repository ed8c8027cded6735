// The keystore: a person's identities in an age file encrypted with a passphrase (scrypt),
// the same file the `ferry` CLI keeps, so keys move between the page and the CLI.

import { Decrypter, Encrypter, identityToRecipient } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";

import { fromBase64, toBase64 } from "./bytes.ts";
import { accountIdFor } from "./keycard.ts";

/** One person's keys. */
export interface Identity {
  label: string;
  displayName: string;
  /** Ed25519 secret key (32 bytes). */
  signingSecret: Uint8Array;
  /** age X25519 identity, `AGE-SECRET-KEY-1…`. */
  ageSecret: string;
}

/** Why a keystore could not be opened. */
export class KeystoreError extends Error {
  override name = "KeystoreError";
}

/** The account id of an identity. */
export function accountIdOf(identity: Identity): string {
  return accountIdFor(ed25519.getPublicKey(identity.signingSecret));
}

/** The age recipient of an identity. */
export async function recipientOf(identity: Identity): Promise<string> {
  return identityToRecipient(identity.ageSecret);
}

/** Opens a keystore file with its passphrase. */
export async function openKeystore(file: Uint8Array, passphrase: string): Promise<Identity[]> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  let text: string;
  try {
    text = await d.decrypt(file, "text");
  } catch {
    throw new KeystoreError("the passphrase does not open this keystore, or it is damaged");
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    throw new KeystoreError("the keystore's contents are not readable");
  }
  const s = stored as { v?: unknown; identities?: unknown };
  if (s.v !== 1 || !Array.isArray(s.identities)) {
    throw new KeystoreError("this keystore is of a version this page does not read");
  }
  return s.identities.map((raw: unknown) => {
    const i = raw as Record<string, unknown>;
    if (
      typeof i.label !== "string" ||
      typeof i.display_name !== "string" ||
      typeof i.signing_secret !== "string" ||
      typeof i.age_secret !== "string"
    ) {
      throw new KeystoreError("an identity in the keystore is incomplete");
    }
    const signingSecret = fromBase64(i.signing_secret);
    if (signingSecret.length !== 32) {
      throw new KeystoreError("an identity's signing key is not 32 bytes");
    }
    return {
      label: i.label,
      displayName: i.display_name,
      signingSecret,
      ageSecret: i.age_secret,
    };
  });
}

/** Writes identities as a keystore file under `passphrase` (scrypt `workFactor`, log2). */
export async function writeKeystore(
  identities: Identity[],
  passphrase: string,
  workFactor: number,
): Promise<Uint8Array> {
  const stored = {
    v: 1,
    identities: identities.map((i) => ({
      label: i.label,
      display_name: i.displayName,
      signing_secret: toBase64(i.signingSecret),
      age_secret: i.ageSecret,
    })),
  };
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(workFactor);
  return e.encrypt(JSON.stringify(stored));
}
