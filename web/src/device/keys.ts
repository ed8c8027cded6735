// A person's keys while the page is unlocked. Where the browser has Ed25519 and X25519 in
// WebCrypto the keys are non-extractable CryptoKeys: the page can sign and open with them but
// no script can read them out. Otherwise they are held in memory only while unlocked.

import { bech32 } from "@scure/base";

import { concat, fromHex } from "../crypto/bytes.ts";
import { signerOf } from "../crypto/identity.ts";
import { accountIdOf, type Identity, recipientOf } from "../crypto/keystore.ts";
import type { AgeIdentity } from "../crypto/letters.ts";
import { cryptoKeySigner, type Signer } from "../crypto/signer.ts";

/** What the page works with while unlocked. */
export interface Keys {
  accountId: string;
  displayName: string;
  signer: Signer;
  age: AgeIdentity;
  ageRecipient: string;
}

/** PKCS #8 prefixes for a raw 32-byte Ed25519 seed and X25519 scalar (RFC 8410). */
const ED25519_PKCS8 = fromHex("302e020100300506032b657004220420");
const X25519_PKCS8 = fromHex("302e020100300506032b656e04220420");

/** The 32-byte scalar of an `AGE-SECRET-KEY-1…` identity. */
function ageScalar(secret: string): Uint8Array {
  const decoded = bech32.decode(secret.toLowerCase() as `${string}1${string}`, false);
  return bech32.fromWords(decoded.words);
}

/**
 * The identity's keys as non-extractable WebCrypto keys, or undefined where this browser
 * cannot hold them so.
 */
export async function lockAway(identity: Identity): Promise<{ signingKey: CryptoKey; ageKey: CryptoKey } | undefined> {
  try {
    const signingKey = await crypto.subtle.importKey(
      "pkcs8",
      concat(ED25519_PKCS8, identity.signingSecret),
      { name: "Ed25519" },
      false,
      ["sign"],
    );
    const ageKey = await crypto.subtle.importKey(
      "pkcs8",
      concat(X25519_PKCS8, ageScalar(identity.ageSecret)),
      { name: "X25519" },
      false,
      ["deriveBits"],
    );
    return { signingKey, ageKey };
  } catch {
    return undefined;
  }
}

/** The keys to work with: the device's CryptoKeys where it has them, else the identity itself. */
export async function keysFor(
  identity: Identity,
  held?: { signingKey?: CryptoKey | undefined; ageKey?: CryptoKey | undefined },
): Promise<Keys> {
  const accountId = accountIdOf(identity);
  const [signingKey, ageKey] = [held?.signingKey, held?.ageKey];
  const inBrowser = signingKey !== undefined && ageKey !== undefined;
  return {
    accountId,
    displayName: identity.displayName,
    signer: inBrowser ? cryptoKeySigner(accountId, signingKey) : signerOf(identity),
    age: inBrowser ? ageKey : identity.ageSecret,
    ageRecipient: await recipientOf(identity),
  };
}
