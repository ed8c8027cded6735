// Writing: a question, a letter, or an answer to a question; files added are locked here a
// piece at a time and sent with progress. Everything is sealed to the case's facilitators and
// to the writer, and signed here, exactly as the CLI does.

import { now, type Schemas } from "../api/client.ts";
import { toBase64, utf8 } from "../crypto/bytes.ts";
import { verifyKeyCard } from "../crypto/keycard.ts";
import {
  type Letter,
  MAX_BODY_BYTES,
  type MessageKind,
  type ParticipantRole,
  type SealedAttachment,
  newId,
  sealAttachment,
  sealLetter,
} from "../crypto/letters.ts";
import { t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { alertRegion, field, h, say } from "./dom.ts";
import { type MyCase, showHome } from "./home.ts";
import { explain } from "./problems.ts";

/** What is being written. */
export interface Writing {
  kind: MessageKind;
  /** For an answer: the question's id and text. */
  answering?: { id: string; text: string };
  /** For a new version of a returned message: the facilitator's note and the old text. */
  rewriting?: { note: string; text: string; inReplyTo: string | null };
}

class Problem extends Error {}

/** Who a message goes to: the other party; a supporter chooses. */
function recipientChoice(role: string): { fieldset: HTMLElement | null; chosen: () => ParticipantRole | null } {
  if (role !== "supporter") {
    const other: ParticipantRole = role === "responsible" ? "harmed" : "responsible";
    return { fieldset: null, chosen: () => other };
  }
  const option = (value: ParticipantRole, label: string) => {
    const input = h("input", { type: "radio", name: "to", value, id: `to-${value}` });
    return { input, wrap: h("div", { class: "check" }, input, h("label", { for: `to-${value}` }, label)) };
  };
  const harmed = option("harmed", t("write.to.harmed"));
  const responsible = option("responsible", t("write.to.responsible"));
  return {
    fieldset: h("fieldset", {}, h("legend", {}, t("write.to.legend")), harmed.wrap, responsible.wrap),
    chosen: () => (harmed.input.checked ? "harmed" : responsible.input.checked ? "responsible" : null),
  };
}

export function showWrite(app: App, c: MyCase, writing: Writing): void {
  const error = alertRegion();
  const text = h("textarea", { rows: 12, required: true });
  if (writing.rewriting !== undefined) text.value = writing.rewriting.text;
  const body = field(t("write.body.label"), text);
  const files = field(t("write.files.label"), h("input", { type: "file", multiple: true }), t("write.files.hint"));
  const progress = h("div", { class: "progress", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, t("write.send"));
  const to = recipientChoice(c.role);
  const form = h("form", { novalidate: true }, to.fieldset, body.wrap, files.wrap, error, progress, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    say(error, "");
    const recipient = to.chosen();
    if (recipient === null) {
      say(error, t("write.to.missing"));
      return;
    }
    submit.disabled = true;
    send(app, c, writing, recipient, text.value, [...((files.input as HTMLInputElement).files ?? [])], progress)
      .then(() => {
        const back = h("button", { type: "button", onclick: () => void showHome(app) }, t("back"));
        app.show(t("write.sent"), back);
      })
      .catch((e: unknown) => {
        submit.disabled = false;
        progress.replaceChildren();
        say(error, e instanceof Problem ? e.message : t("write.failed", { reason: explain(e) }));
      });
  });
  const title =
    writing.kind === "question"
      ? "write.title.question"
      : writing.kind === "answer"
        ? "write.title.answer"
        : "write.title.letter";
  app.show(
    t(title),
    h("p", {}, t("write.intro")),
    writing.answering !== undefined
      ? h("div", { class: "quote" }, h("p", {}, t("write.answering")), h("blockquote", {}, writing.answering.text))
      : null,
    writing.rewriting !== undefined
      ? h("div", { class: "quote" }, h("p", {}, t("write.rewriting")), h("blockquote", {}, writing.rewriting.note))
      : null,
    form,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => void showHome(app) }, t("back"))),
  );
}

/** One progress bar, labelled for screen readers. */
function bar(holder: HTMLElement, label: string, max: number): HTMLProgressElement {
  const p = h("progress", { max: Math.max(max, 1), value: 0, "aria-label": label });
  holder.append(h("div", { class: "bar" }, h("span", {}, label), p));
  return p;
}

async function send(
  app: App,
  c: MyCase,
  writing: Writing,
  recipient: ParticipantRole,
  text: string,
  chosen: File[],
  holder: HTMLElement,
): Promise<void> {
  if (text.trim() === "") throw new Problem(t("write.empty"));
  if (utf8(text).length > MAX_BODY_BYTES) throw new Problem(t("write.too-long"));
  const caseId = c.view.case_id;
  const cards = await app.client.get<Schemas["KeyCards"]>(`/v1/cases/${caseId}/facilitators`);
  const recipients = cards.key_cards.map((card) => verifyKeyCard(card).ageRecipient);
  if (recipients.length === 0) throw new Problem(t("write.no-facilitator"));
  const me = app.me;
  const sealed: SealedAttachment[] = [];
  for (const file of chosen) {
    const p = bar(holder, t("write.sealing", { name: file.name }), file.size);
    sealed.push(await sealAttachment([...recipients, me.ageRecipient], file.name, file, (done) => (p.value = done)));
  }
  holder.append(h("p", {}, t("write.sending")));
  const letter: Letter = {
    v: 1,
    case_id: caseId,
    message_id: newId(),
    kind: writing.kind,
    author: me.accountId,
    recipient_role: recipient,
    in_reply_to: writing.answering?.id ?? writing.rewriting?.inReplyTo ?? null,
    created_at: now(),
    body: text,
    attachments: sealed.map((s) => s.ref),
  };
  const seq = await app.client.nextSeq();
  const message = await sealLetter(
    me.signer,
    me.ageRecipient,
    recipients,
    letter,
    seq,
    sealed.map((s) => s.blob),
  );
  await app.client.post<Schemas["Accepted"]>(`/v1/cases/${caseId}/messages`, {
    envelope: message.envelope,
    ciphertext: toBase64(message.ciphertext),
  });
  for (const [i, s] of sealed.entries()) {
    const p = bar(holder, t("write.uploading", { name: s.ref.name }), s.data.size);
    await app.client.upload(`/v1/cases/${caseId}/messages/${letter.message_id}/attachments/${i}`, s.data, (n) => {
      p.value = n;
    });
    p.value = s.data.size;
  }
}
