// Signed statements, exactly as the Rust side makes and checks them: the signature is
// Ed25519 over "ferry/v1/<kind>\0" || body, where body is the exact JSON bytes that travel
// (base64 inside {"kind","signer","body","sig"}). Verify the bytes, then parse them.

import { ed25519 } from "@noble/curves/ed25519.js";

import type { components } from "../api.d.ts";
import { concat, fromBase64, fromUtf8, toBase64, utf8 } from "./bytes.ts";

/** A statement as it travels (the server's OpenAPI schema `SignedStatement`). */
export type SignedStatement = components["schemas"]["SignedStatement"];

/** Every kind of statement the server knows. */
export type StatementKind = SignedStatement["kind"];

const KINDS: Record<StatementKind, true> = {
  "key-card": true,
  "key-verification": true,
  letter: true,
  "redacted-letter": true,
  submission: true,
  forward: true,
  return: true,
  withhold: true,
  escalate: true,
  "read-receipt": true,
  consent: true,
  withdrawal: true,
  hold: true,
  "case-open": true,
  allocation: true,
  invitation: true,
  enrolment: true,
  "risk-assessment": true,
  "case-state": true,
  session: true,
  note: true,
  "paper-member": true,
  "paper-consent": true,
  "entered-letter": true,
  "entered-submission": true,
  printing: true,
};

/** The kinds, as a set (the record above fails to compile when the server's list changes). */
const STATEMENT_KINDS: ReadonlySet<string> = new Set(Object.keys(KINDS));

/** Why a statement was not accepted. */
export class StatementError extends Error {
  override name = "StatementError";
}

/** The bytes a statement's signature covers. */
export function signingInput(kind: StatementKind, body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concat(utf8(`ferry/v1/${kind}`), new Uint8Array([0]), body);
}

/** Signs `body` (the exact JSON bytes) as a statement of `kind` by `signer`. */
export function sign(kind: StatementKind, signer: string, body: Uint8Array, secretKey: Uint8Array): SignedStatement {
  const sig = ed25519.sign(signingInput(kind, body), secretKey);
  return { kind, signer, body: toBase64(body), sig: toBase64(sig) };
}

/** Reads a statement from its JSON form, checking its shape only. */
export function parseStatement(json: string): SignedStatement {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new StatementError("the statement is not JSON");
  }
  if (
    typeof value !== "object" ||
    value === null ||
    !["kind", "signer", "body", "sig"].every((k) => typeof (value as Record<string, unknown>)[k] === "string")
  ) {
    throw new StatementError("the statement does not have kind, signer, body and sig");
  }
  const { kind, signer, body, sig } = value as SignedStatement;
  if (!STATEMENT_KINDS.has(kind)) {
    throw new StatementError("the statement is of a kind this page does not know");
  }
  return { kind, signer, body, sig };
}

/**
 * Checks that `st` is a `kind` statement signed by `publicKey` over its exact bytes, and
 * only then parses its body. `signerField` names the body's field that must hold the same
 * account as the outer signer (the signer binding).
 */
export function open<T>(st: SignedStatement, kind: StatementKind, publicKey: Uint8Array, signerField: string): T {
  if (st.kind !== kind) {
    throw new StatementError(`expected a ${kind} statement, got ${st.kind}`);
  }
  const body = fromBase64(st.body);
  const sig = fromBase64(st.sig);
  if (sig.length !== 64 || !ed25519.verify(sig, signingInput(kind, body), publicKey)) {
    throw new StatementError(`the ${kind} statement's signature does not verify`);
  }
  const parsed = parseBody(body, kind);
  if (parsed[signerField] !== st.signer) {
    throw new StatementError(`the ${kind} statement names another signer inside`);
  }
  return parsed as T;
}

/** A statement body's JSON object (after its signature was checked). */
export function parseBody(body: Uint8Array, kind: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(body));
  } catch {
    throw new StatementError(`the ${kind} statement's body is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StatementError(`the ${kind} statement's body is not an object`);
  }
  return value as Record<string, unknown>;
}
