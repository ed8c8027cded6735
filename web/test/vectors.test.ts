// The page's cryptography against the Rust side's pinned vectors (crypto/tests/vectors): the
// same key cards verify, give the same safety numbers, the CLI's keystore opens, and the
// sealed question opens with its author's signatures checked. Tampering is refused.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";

import { fromBase64, toBase64, utf8 } from "../src/crypto/bytes.ts";
import { accountIdFor, fingerprint, keyCode, safetyNumber, verifyKeyCard } from "../src/crypto/keycard.ts";
import { accountIdOf, openKeystore, writeKeystore } from "../src/crypto/keystore.ts";
import { openSealed } from "../src/crypto/seal.ts";
import { open, parseStatement, sign, StatementError } from "../src/crypto/statement.ts";

const VECTORS = new URL("../../crypto/tests/vectors/", import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(name, VECTORS))));
const statement = (name: string) => parseStatement(new TextDecoder().decode(read(name)));

// Pinned in crypto/tests/crypto/vectors.rs.
const PASSPHRASE = "ferry test vectors";
const HARMED_SAFETY_NUMBER = "00753 73292 07984 88443 80793 70190";
const FACILITATOR_SAFETY_NUMBER = "62730 50674 90860 22420 70397 50222";
const QUESTION = "Why did you pick our house? Had you been watching us before that night?";

/** `st` with one byte of its body changed. */
function tampered(st: ReturnType<typeof statement>) {
  const body = fromBase64(st.body);
  body[body.length - 2] = (body[body.length - 2] ?? 0) ^ 1;
  return { ...st, body: toBase64(body) };
}

describe("key cards", () => {
  it("verify and give the safety numbers the CLI prints", () => {
    const harmed = verifyKeyCard(statement("harmed.card.json"));
    const facilitator = verifyKeyCard(statement("facilitator.card.json"));
    expect(harmed.displayName).toBe("Harriet Harmed");
    expect(safetyNumber(fingerprint(harmed))).toBe(HARMED_SAFETY_NUMBER);
    expect(safetyNumber(fingerprint(facilitator))).toBe(FACILITATOR_SAFETY_NUMBER);
    expect(keyCode(fingerprint(harmed))).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
  });

  it("are refused when a byte changed or the id is not the key's", () => {
    expect(() => verifyKeyCard(tampered(statement("harmed.card.json")))).toThrow(StatementError);
    const other = ed25519.utils.randomSecretKey();
    const card = statement("harmed.card.json");
    const forged = sign("key-card", card.signer, fromBase64(card.body), other);
    expect(() => verifyKeyCard(forged)).toThrow(StatementError);
  });
});

describe("statements", () => {
  it("sign the exact bytes, which verify only unchanged and with the signer bound", () => {
    const secret = ed25519.utils.randomSecretKey();
    const account = accountIdFor(ed25519.getPublicKey(secret));
    const body = utf8(JSON.stringify({ v: 1, participant: account, seq: 3 }));
    const st = sign("consent", account, body, secret);
    const pub = ed25519.getPublicKey(secret);
    expect(open<{ seq: number }>(st, "consent", pub, "participant").seq).toBe(3);
    expect(() => open(tampered(st), "consent", pub, "participant")).toThrow(StatementError);
    expect(() => open(st, "withdrawal", pub, "participant")).toThrow(StatementError);
    expect(() => open({ ...st, signer: "someone-else" }, "consent", pub, "participant")).toThrow(StatementError);
  });
});

describe("the keystore", () => {
  it("opens the CLI's file and round-trips through the page's", async () => {
    const identities = await openKeystore(read("keystore.age"), PASSPHRASE);
    const harmed = identities.find((i) => i.label === "harmed");
    expect(harmed && accountIdOf(harmed)).toBe(verifyKeyCard(statement("harmed.card.json")).accountId);
    await expect(openKeystore(read("keystore.age"), "not the passphrase")).rejects.toThrow();
    const again = await openKeystore(await writeKeystore(identities, "another", 4), "another");
    expect(again.map(accountIdOf)).toEqual(identities.map(accountIdOf));
  });
});

describe("sealed messages", () => {
  it("open for the facilitator with both of the author's signatures checked", async () => {
    const identities = await openKeystore(read("keystore.age"), PASSPHRASE);
    const facilitator = identities.find((i) => i.label === "facilitator");
    if (!facilitator) throw new Error("no facilitator in the vectors' keystore");
    const harmed = verifyKeyCard(statement("harmed.card.json"));
    const envelope = statement("question.envelope.json");
    const opened = await openSealed(facilitator.ageSecret, envelope, read("question.age"), harmed, "case-vectors");
    expect(opened.letter.body).toBe(QUESTION);
    expect(opened.envelope.message_id).toBe("m-0001");

    const wrongCase = openSealed(facilitator.ageSecret, envelope, read("question.age"), harmed, "case-other");
    await expect(wrongCase).rejects.toThrow(StatementError);
    const flipped = read("question.age");
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    const altered = openSealed(facilitator.ageSecret, envelope, flipped, harmed, "case-vectors");
    await expect(altered).rejects.toThrow(StatementError);
    const facilitatorCard = verifyKeyCard(statement("facilitator.card.json"));
    const notTheAuthor = openSealed(
      facilitator.ageSecret,
      envelope,
      read("question.age"),
      facilitatorCard,
      "case-vectors",
    );
    await expect(notTheAuthor).rejects.toThrow(StatementError);
  });
});
