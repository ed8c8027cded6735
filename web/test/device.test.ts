// The page's keys held as non-extractable WebCrypto keys sign and open exactly as the same
// keys held as bytes (Node's WebCrypto has Ed25519 and X25519, as Chromium has).

import { Encrypter } from "age-encryption";
import { expect, it } from "vitest";

import { utf8 } from "../src/crypto/bytes.ts";
import { newIdentity, signerOf } from "../src/crypto/identity.ts";
import { keysFor, lockAway } from "../src/device/keys.ts";
import { openNote } from "../src/crypto/letters.ts";
import { recipientOf } from "../src/crypto/keystore.ts";
import { StatementError } from "../src/crypto/statement.ts";

it("a non-extractable Ed25519 key signs as the key's bytes do", async () => {
  const identity = await newIdentity("default", "Harriet");
  const held = await lockAway(identity);
  expect(held).toBeDefined();
  expect(held?.signingKey.extractable).toBe(false);
  expect(held?.ageKey.extractable).toBe(false);
  const keys = await keysFor(identity, held);
  const body = utf8('{"v":1,"hello":"world"}');
  expect(await keys.signer.sign("consent", body)).toEqual(await signerOf(identity).sign("consent", body));
  expect(keys.ageRecipient).toBe(await recipientOf(identity));
});

it("a non-extractable X25519 key opens what was sealed to the identity", async () => {
  const identity = await newIdentity("default", "Rory");
  const held = await lockAway(identity);
  const keys = await keysFor(identity, held);
  expect(typeof keys.age).not.toBe("string");
  const e = new Encrypter();
  e.addRecipient(keys.ageRecipient);
  const sealed = await e.encrypt('{"not":"a statement"}');
  // It decrypts (the failure is about what is inside, not about opening it).
  await expect(openNote(keys.age, sealed, { accountId: "x" } as never, "c")).rejects.toThrow(StatementError);
  await expect(openNote(keys.age, sealed, { accountId: "x" } as never, "c")).rejects.toThrow(/statement/);
  const other = await lockAway(await newIdentity("default", "Someone"));
  await expect(openNote(other?.ageKey ?? "", sealed, { accountId: "x" } as never, "c")).rejects.toThrow(
    /cannot be opened with your key/,
  );
});
