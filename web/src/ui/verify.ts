// Checking a printed letter: anyone holding one (prison staff who vet post, the person it is
// for, an auditor) types the code at the foot of its pages, or comes here from its square
// code, and learns whether a facilitator of this service approved and printed a letter with
// that code, and when. No account is needed, and nothing of the letter's content is shown.

import { sha256 } from "@noble/hashes/sha2.js";

import type { Schemas } from "../api/client.ts";
import { toHex, utf8 } from "../crypto/bytes.ts";
import { verifyKeyCard } from "../crypto/keycard.ts";
import { open, StatementError } from "../crypto/statement.ts";
import { date, t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { alertRegion, field, h, say } from "./dom.ts";
import { explain } from "./problems.ts";

const KIND_WORDS = {
  letter: "verify.kind.letter",
  question: "verify.kind.question",
  answer: "verify.kind.answer",
} as const;

/** A code as typed: letters and digits only, in capitals, O read as 0 and I or L as 1. */
export function typedCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

/** The hash under which the log names the printing of the letter with `code` (as typed). */
export function codeLookup(code: string): string {
  return toHex(sha256(new Uint8Array([...utf8("ferry/v1/letter-code\0"), ...utf8(typedCode(code))])));
}

/** The check screen; `fromLink` is the code the letter's square code carried, if any. */
export function showVerify(app: App, fromLink: string | null): void {
  const error = alertRegion();
  const result = h("div", { role: "status" });
  const code = field(
    t("verify.code.label"),
    h("input", { autocomplete: "off", spellcheck: "false", autocapitalize: "characters" }),
    t("verify.code.hint"),
  );
  if (fromLink !== null) (code.input as HTMLInputElement).value = fromLink;
  const submit = h("button", { type: "submit" }, t("verify.submit"));
  const form = h("form", { novalidate: true }, code.wrap, error, submit);
  const check = () => {
    say(error, "");
    result.replaceChildren(h("p", { class: "status" }, t("verify.checking")));
    checkCode(app, code.input.value)
      .then((found) => result.replaceChildren(...found))
      .catch((e: unknown) => {
        result.replaceChildren();
        say(error, e instanceof StatementError ? t("verify.failed") : explain(e));
      });
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    check();
  });
  app.showLocked(t("verify.title"), h("p", {}, t("verify.intro")), form, result);
  if (fromLink !== null) check();
}

/** Asks the service about a code and checks its answer: the facilitator's signature on the
 * printing, and that the printing is the one this code names. */
async function checkCode(app: App, typed: string): Promise<Node[]> {
  const found = await app.client.post<Schemas["LetterCheck"]>("/v1/letters/check", { code: typed });
  const card = verifyKeyCard(found.facilitator_card);
  if (found.printing.signer !== card.accountId) throw new StatementError("the printing is signed by someone else");
  const printing = open<{ code: string; text_sha256: string }>(
    found.printing,
    "printing",
    card.signingKey,
    "facilitator",
  );
  if (printing.code !== codeLookup(typed) || printing.text_sha256 !== found.text_sha256) {
    throw new StatementError("the answer is about another letter");
  }
  return [
    h(
      "div",
      { class: "checked" },
      h(
        "p",
        {},
        t("verify.found", {
          kind: t(KIND_WORDS[found.kind]),
          approved: date(found.approved_at),
          printed: date(found.printed_at),
        }),
      ),
      h("p", {}, t("verify.fingerprint", { fingerprint: found.text_sha256.slice(0, 12) })),
    ),
    h("p", {}, t("verify.content")),
  ];
}
