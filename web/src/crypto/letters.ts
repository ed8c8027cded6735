// Messages as the CLI makes and reads them: a letter signed by its author, sealed with age to
// the case's facilitators and the author, under an envelope the server checks; attachments as
// streaming age files; what a facilitator passes on (a forward over the author's own letter,
// or over the facilitator's redacted version) and what they send back (a signed note).

import { Encrypter } from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";

import { fromUtf8, toHex, utf8 } from "./bytes.ts";
import type { KeyCard } from "./keycard.ts";
import { type AgeIdentity, checkCiphertext, decrypt } from "./seal.ts";
import { type Signer, signBody } from "./signer.ts";
import { type SignedStatement, StatementError, open, parseStatement } from "./statement.ts";

export type { AgeIdentity };

export type MessageKind = "letter" | "question" | "answer";
export type ParticipantRole = "harmed" | "responsible" | "supporter";

/** The largest letter text, in UTF-8 bytes (as the Rust side). */
export const MAX_BODY_BYTES = 256 * 1024;

/** A plaintext attachment as the letter signs it. */
export interface AttachmentRef {
  name: string;
  size: number;
  sha256: string;
}

/** An encrypted attachment as the server stores it. */
export interface AttachmentBlob {
  size: number;
  sha256: string;
}

/** What the author writes. */
export interface Letter {
  v: 1;
  case_id: string;
  message_id: string;
  kind: MessageKind;
  author: string;
  recipient_role: ParticipantRole;
  in_reply_to: string | null;
  created_at: number;
  body: string;
  attachments: AttachmentRef[];
}

/** A fresh message id: 128 random bits, hex. */
export function newId(): string {
  return toHex(randomBytes(16));
}

/** Whether a file name may travel: plain, 1–255 bytes, no folders or control characters. */
export function isPlainFileName(name: string): boolean {
  const bytes = utf8(name).length;
  return bytes > 0 && bytes <= 255 && !/[/\\]/.test(name) && !/\p{Cc}/u.test(name) && name !== "." && name !== "..";
}

function encrypter(recipients: string[]): Encrypter {
  const e = new Encrypter();
  for (const r of new Set(recipients)) e.addRecipient(r);
  return e;
}

/** A sealed attachment: what the letter signs, what the envelope lists, and the bytes to upload. */
export interface SealedAttachment {
  ref: AttachmentRef;
  blob: AttachmentBlob;
  data: Blob;
}

/**
 * Seals a file to `recipients` as a streaming age file, a piece at a time; `progress` hears
 * how many bytes of the file are done.
 */
export async function sealAttachment(
  recipients: string[],
  name: string,
  file: Blob,
  progress: (done: number) => void,
): Promise<SealedAttachment> {
  if (!isPlainFileName(name)) {
    throw new StatementError("an attachment needs a plain file name");
  }
  const plain = sha256.create();
  let done = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      plain.update(chunk);
      done += chunk.length;
      progress(done);
      out.enqueue(chunk);
    },
  });
  const sealed = await encrypter(recipients).encrypt(file.stream().pipeThrough(tap));
  const cipher = sha256.create();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = sealed.getReader();
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    cipher.update(value);
    size += value.length;
    parts.push(new Uint8Array(value));
  }
  return {
    ref: { name, size: done, sha256: toHex(plain.digest()) },
    blob: { size, sha256: toHex(cipher.digest()) },
    data: new Blob(parts, { type: "application/octet-stream" }),
  };
}

/** A sealed message, ready to submit. */
export interface SealedMessage {
  envelope: SignedStatement;
  ciphertext: Uint8Array;
}

/** Signs `letter`, seals it to `recipients` and the author, and signs its envelope. */
export async function sealLetter(
  author: Signer,
  ownRecipient: string,
  recipients: string[],
  letter: Letter,
  seq: number,
  blobs: AttachmentBlob[],
): Promise<SealedMessage> {
  if (utf8(letter.body).length > MAX_BODY_BYTES) throw new StatementError("the message is too long");
  if (letter.kind === "answer" && letter.in_reply_to === null) {
    throw new StatementError("an answer must name the question it answers");
  }
  if (blobs.length !== letter.attachments.length) throw new StatementError("an attachment is missing");
  const inner = await signBody(author, "letter", letter);
  const ciphertext = await encrypter([...recipients, ownRecipient]).encrypt(JSON.stringify(inner));
  const envelope = {
    v: 1,
    case_id: letter.case_id,
    message_id: letter.message_id,
    kind: letter.kind,
    author: letter.author,
    recipient_role: letter.recipient_role,
    in_reply_to: letter.in_reply_to,
    seq,
    created_at: letter.created_at,
    ciphertext_sha256: toHex(sha256(ciphertext)),
    ciphertext_size: ciphertext.length,
    attachments: blobs,
  };
  return { envelope: await signBody(author, "submission", envelope), ciphertext };
}

/** What a facilitator decided for each of the author's attachments. */
export type AttachmentDecision = "kept" | "dropped" | "replaced";

/** A facilitator's signed decision to pass a message on. */
export interface Forward {
  v: number;
  case_id: string;
  message_id: string;
  facilitator: string;
  recipient: string;
  recipient_role: ParticipantRole;
  original_sha256: string;
  forwarded_sha256: string;
  forwarded_size: number;
  redacted: boolean;
  attachments: AttachmentBlob[];
  attachment_decisions?: AttachmentDecision[];
  seq: number;
  created_at: number;
}

/** A message passed on to its reader, every signature checked. */
export interface Delivered {
  forward: Forward;
  kind: MessageKind;
  author: string;
  inReplyTo: string | null;
  createdAt: number;
  body: string;
  attachments: AttachmentRef[];
  /** The facilitator changed the text or an attachment; the author's own signature is not on it. */
  redacted: boolean;
  /**
   * For a person on paper: the facilitator who typed up their handwritten original (whose scan
   * was the first attachment: `scanPassed` says whether it came too).
   */
  enteredBy: string | null;
  scanPassed: boolean;
}

/** The message's header fields the forward binds, checked on the inner letter. */
function checkSame(fwd: Forward, inner: Record<string, unknown>): void {
  for (const f of ["case_id", "message_id", "recipient_role"] as const) {
    if (inner[f] !== fwd[f])
      throw new StatementError(`the letter's ${f.replaceAll("_", " ")} differs from its forward`);
  }
  const kind = inner.kind;
  if (kind !== "letter" && kind !== "question" && kind !== "answer") throw new StatementError("unknown message kind");
  if (typeof inner.body !== "string" || !Array.isArray(inner.attachments)) {
    throw new StatementError("the letter is incomplete");
  }
  if (kind === "answer" && typeof inner.in_reply_to !== "string") {
    throw new StatementError("an answer must name the question it answers");
  }
}

/**
 * The decisions against the rest of the forward: dropping or replacing an attachment makes it
 * redacted, except leaving out the scan of a handwritten original (`scanFirst`: attachment 0 of
 * a letter typed up for a person on paper).
 */
function checkDecisions(fwd: Forward, scanFirst: boolean): void {
  const decisions = fwd.attachment_decisions ?? [];
  if (decisions.length === 0) return;
  const passed = decisions.filter((d) => d !== "dropped").length;
  if (passed !== fwd.attachments.length) throw new StatementError("the forward's attachments do not add up");
  const changes = (d: AttachmentDecision, i: number) =>
    d === "replaced" || (d === "dropped" && !(scanFirst && i === 0));
  if (!fwd.redacted && decisions.some(changes)) {
    throw new StatementError("an attachment was changed but the forward does not say so");
  }
}

/**
 * Opens what a facilitator passed on: their forward, signed by `facilitator`, over exactly
 * these bytes, for `reader` in `caseId`; inside, the author's own signed letter or, when the
 * forward says redacted, the facilitator's signed redacted version of the author's letter.
 * `author` is the card of whoever signed the original: its author, or, for a person on paper,
 * the facilitator who typed it up (the caller checks they are one of the case's).
 */
export async function openForwarded(
  identity: AgeIdentity,
  reader: string,
  statement: SignedStatement,
  ciphertext: Uint8Array,
  facilitator: KeyCard,
  author: KeyCard,
  caseId: string,
): Promise<Delivered> {
  if (statement.signer !== facilitator.accountId) {
    throw new StatementError("the forward is not signed by the facilitator named");
  }
  const fwd = open<Forward>(statement, "forward", facilitator.signingKey, "facilitator");
  if (fwd.case_id !== caseId) throw new StatementError("the forward belongs to another case");
  if (fwd.recipient !== reader) throw new StatementError("the forward is for someone else");
  checkCiphertext(ciphertext, fwd.forwarded_sha256, fwd.forwarded_size);
  const inner = parseStatement(fromUtf8(await decrypt(identity, ciphertext, "message")));
  let body: Record<string, unknown>;
  if (!fwd.redacted && inner.kind === "letter") {
    if (inner.signer !== author.accountId) throw new StatementError("the letter is not signed by its author");
    body = open(inner, "letter", author.signingKey, "author");
    if (body.entered_by !== undefined) throw new StatementError("a letter in its author's hand names a typist");
  } else if (!fwd.redacted && inner.kind === "entered-letter") {
    if (inner.signer !== author.accountId) throw new StatementError("the letter is not signed by who typed it up");
    body = open(inner, "entered-letter", author.signingKey, "entered_by");
  } else if (fwd.redacted && inner.kind === "redacted-letter") {
    if (inner.signer !== facilitator.accountId) {
      throw new StatementError("the edited letter is not signed by the facilitator who passed it on");
    }
    body = open(inner, "redacted-letter", facilitator.signingKey, "redacted_by");
    const signedBy = body.entered_by ?? body.author;
    if (signedBy !== author.accountId) throw new StatementError("the edited letter names another author");
  } else {
    throw new StatementError("the forward and the letter inside disagree about whether it was edited");
  }
  checkSame(fwd, body);
  const enteredBy = typeof body.entered_by === "string" ? body.entered_by : null;
  const scanFirst = enteredBy !== null && !fwd.redacted;
  checkDecisions(fwd, scanFirst);
  const decisions = fwd.attachment_decisions ?? [];
  const written = body.attachments as AttachmentRef[];
  if (!fwd.redacted && written.length !== decisions.length) {
    throw new StatementError("the forward does not decide about every attachment");
  }
  // What came: every attachment but a scan left with the facilitator.
  const attachments = fwd.redacted ? written : written.filter((_, i) => decisions[i] !== "dropped");
  if (attachments.length !== fwd.attachments.length) throw new StatementError("the attachments do not add up");
  if (!attachments.every((a) => typeof a?.name === "string" && isPlainFileName(a.name))) {
    throw new StatementError("an attachment's name is not a plain file name");
  }
  return {
    forward: fwd,
    kind: body.kind as MessageKind,
    author: body.author as string,
    inReplyTo: (body.in_reply_to as string | null | undefined) ?? null,
    createdAt: Number(body.created_at),
    body: body.body as string,
    attachments,
    redacted: fwd.redacted,
    enteredBy,
    scanPassed: enteredBy !== null && decisions[0] !== undefined && decisions[0] !== "dropped",
  };
}

/** A facilitator's note on a returned message. */
export interface Note {
  facilitator: string;
  case_id: string;
  message_id: string;
  body: string;
  created_at: number;
}

/** Opens a facilitator's sealed note, checking it is signed by `facilitator`, for `caseId`. */
export async function openNote(
  identity: AgeIdentity,
  ciphertext: Uint8Array,
  facilitator: KeyCard,
  caseId: string,
): Promise<Note> {
  const signed = parseStatement(fromUtf8(await decrypt(identity, ciphertext, "note")));
  if (signed.signer !== facilitator.accountId) throw new StatementError("the note is not signed by your facilitator");
  const note = open<Note>(signed, "note", facilitator.signingKey, "facilitator");
  if (note.case_id !== caseId || typeof note.body !== "string")
    throw new StatementError("the note is not for this case");
  return note;
}

/**
 * Opens a downloaded attachment: its ciphertext must be the blob the forward signs, and what
 * it opens to the file the letter signs. Only then is the file handed back.
 */
export async function openAttachment(
  identity: AgeIdentity,
  ciphertext: Uint8Array,
  blob: AttachmentBlob,
  expected: AttachmentRef,
): Promise<Blob> {
  checkCiphertext(ciphertext, blob.sha256, blob.size);
  const plain = await decrypt(identity, ciphertext, "attachment");
  if (plain.length !== expected.size || toHex(sha256(plain)) !== expected.sha256) {
    throw new StatementError("the attachment is not the file the letter names");
  }
  return new Blob([new Uint8Array(plain)]);
}

/** The body of a participant's consent, withdrawal or hold (a hold adds `hold`). */
export function participantBody(participant: string, caseId: string, seq: number, createdAt: number): object {
  return { v: 1, participant, case_id: caseId, seq, created_at: createdAt };
}

/** The body of a reader's receipt for the forward whose payload has `forwardedSha256`. */
export function readReceiptBody(
  reader: string,
  caseId: string,
  messageId: string,
  forwardedSha256: string,
  seq: number,
  createdAt: number,
): object {
  return {
    v: 1,
    reader,
    case_id: caseId,
    message_id: messageId,
    forwarded_sha256: forwardedSha256,
    seq,
    created_at: createdAt,
  };
}

/** SHA-256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}
