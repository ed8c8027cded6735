// Who signs: a person's Ed25519 key, held either as bytes (just made, or read from a keystore)
// or as a non-extractable WebCrypto key kept by the browser. Both sign the same bytes and
// give the same signature (Ed25519 is deterministic).

import { toBase64, utf8 } from "./bytes.ts";
import { type SignedStatement, type StatementKind, sign, signingInput } from "./statement.ts";

/** Something that signs statements as one account. */
export interface Signer {
  readonly accountId: string;
  /** Signs `body` (the exact JSON bytes) as a statement of `kind`. */
  sign(kind: StatementKind, body: Uint8Array): Promise<SignedStatement>;
}

/** A signer over a secret key in memory. */
export function bytesSigner(accountId: string, secretKey: Uint8Array): Signer {
  return {
    accountId,
    sign: (kind, body) => Promise.resolve(sign(kind, accountId, body, secretKey)),
  };
}

/** A signer over a WebCrypto Ed25519 private key (which may be non-extractable). */
export function cryptoKeySigner(accountId: string, key: CryptoKey): Signer {
  return {
    accountId,
    async sign(kind, body) {
      const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, signingInput(kind, body)));
      return { kind, signer: accountId, body: toBase64(body), sig: toBase64(sig) };
    },
  };
}

/** Signs `body`, serialised here once, as `kind`. */
export function signBody(signer: Signer, kind: StatementKind, body: object): Promise<SignedStatement> {
  return signer.sign(kind, utf8(JSON.stringify(body)));
}
