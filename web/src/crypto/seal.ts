// Opening a sealed message as the Rust side does: the envelope signed by its author, the
// expected case, the ciphertext's hash and size, then the age file, then the inner letter
// signed by the same author, whose fields must equal the envelope's.

import { Decrypter } from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";

import { fromUtf8, toHex } from "./bytes.ts";
import type { KeyCard } from "./keycard.ts";
import { type SignedStatement, StatementError, open, parseStatement } from "./statement.ts";

/** What the envelope and the letter inside both say of a message, and must agree on. */
interface MessageHeader {
  v: number;
  case_id: string;
  message_id: string;
  kind: string;
  author: string;
  recipient_role: string;
  in_reply_to: string | null;
  created_at: number;
  attachments: unknown[];
}

/** What the server sees of a message. */
export interface Envelope extends MessageHeader {
  seq: number;
  ciphertext_sha256: string;
  ciphertext_size: number;
}

/** The author's own letter, inside the age file. */
export interface Letter extends MessageHeader {
  body: string;
}

/** An opened message: its envelope and the letter, both verified. */
export interface Opened {
  envelope: Envelope;
  letter: Letter;
}

/** Who can open what was sealed to a person: an age identity string or a WebCrypto X25519 key. */
export type AgeIdentity = string | CryptoKey;

/** Decrypts an age file for `identity`; `what` names it in the error. */
export async function decrypt(identity: AgeIdentity, ciphertext: Uint8Array, what: string): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(identity);
  try {
    return await d.decrypt(ciphertext);
  } catch {
    throw new StatementError(`the ${what} cannot be opened with your key`);
  }
}

/** Checks that the bytes that arrived are the ones a statement signs (SHA-256 and size). */
export function checkCiphertext(ciphertext: Uint8Array, sha: unknown, size: unknown): void {
  if (ciphertext.length !== size || toHex(sha256(ciphertext)) !== sha) {
    throw new StatementError("what arrived is not what was signed");
  }
}

/** Opens `ciphertext` for the holder of `ageSecret`, expecting a message of `caseId`. */
export async function openSealed(
  ageSecret: AgeIdentity,
  envelope: SignedStatement,
  ciphertext: Uint8Array,
  author: KeyCard,
  caseId: string,
): Promise<Opened> {
  if (envelope.signer !== author.accountId) {
    throw new StatementError("the message is not signed by the author's key card");
  }
  const env = open<Envelope>(envelope, "submission", author.signingKey, "author");
  if (env.case_id !== caseId) {
    throw new StatementError("the message belongs to another case");
  }
  checkCiphertext(ciphertext, env.ciphertext_sha256, env.ciphertext_size);
  const plaintext = await decrypt(ageSecret, ciphertext, "sealed message");
  const signed = parseStatement(fromUtf8(plaintext));
  if (signed.signer !== author.accountId) {
    throw new StatementError("the letter inside is not signed by the envelope's author");
  }
  const letter = open<Letter>(signed, "letter", author.signingKey, "author");
  const fields = ["case_id", "message_id", "kind", "author", "recipient_role", "in_reply_to", "created_at"] as const;
  for (const f of fields) {
    if (letter[f] !== env[f]) {
      throw new StatementError(`the letter's ${f.replaceAll("_", " ")} differs from its envelope's`);
    }
  }
  if (!Array.isArray(letter.attachments) || letter.attachments.length !== env.attachments.length) {
    throw new StatementError("the letter's attachments differ from its envelope's");
  }
  return { envelope: env, letter };
}
