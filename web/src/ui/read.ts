// Opening what was passed on, when the person chooses: every signature is checked first, and
// what the checks found is said in words. A message that fails a check is not shown at all.
// Also: a returned message's note from the facilitator, with the way to write a new version.

import { now, type Schemas } from "../api/client.ts";
import { EncodingError, fromBase64 } from "../crypto/bytes.ts";
import { type KeyCard, verifyKeyCard } from "../crypto/keycard.ts";
import {
  type Delivered,
  openAttachment,
  openForwarded,
  openNote,
  readReceiptBody,
  sha256Hex,
} from "../crypto/letters.ts";
import { openSealed } from "../crypto/seal.ts";
import { signBody } from "../crypto/signer.ts";
import { StatementError } from "../crypto/statement.ts";
import { update } from "../device/vault.ts";
import { t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { alertRegion, h, saveFile, say, size } from "./dom.ts";
import { type MyCase, showHome } from "./home.ts";
import { explain } from "./problems.ts";
import { shown } from "./shown.ts";
import { showWrite } from "./write.ts";

type Summary = Schemas["DeliverySummary"];

function backButton(app: App): HTMLElement {
  return h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => void showHome(app) }, t("back")));
}

/** The facilitator who signed a delivery: their card must verify and they must be one of the case's. */
function facilitatorOf(detail: Schemas["DeliveryDetail"], c: MyCase): KeyCard {
  const card = verifyKeyCard(detail.facilitator_card);
  if (card.accountId !== detail.statement.signer) throw new StatementError("the facilitator's card does not match");
  const isFacilitator = c.view.members.some((m) => m.role === "facilitator" && m.account_id === card.accountId);
  if (!isFacilitator) throw new StatementError("this was passed on by someone who is not a facilitator of the case");
  return card;
}

/** Opens a delivery and shows it, or a warning and nothing else. */
export function showRead(app: App, d: Summary, c: MyCase): void {
  const busy = h("p", { role: "status", class: "status" }, t("read.checking"));
  app.show(t("read.title"), busy);
  open(app, d, c)
    .then(([delivered, facilitator, author, hash]) => {
      showMessage(app, d, c, delivered, facilitator, author);
      void receipt(app, d, c, hash);
    })
    .catch((e: unknown) => {
      if (e instanceof StatementError || e instanceof EncodingError) {
        app.show(
          t("read.failed.title"),
          h("p", { role: "alert", class: "warning" }, t("read.failed")),
          backButton(app),
        );
      } else {
        const problem = alertRegion();
        say(problem, explain(e));
        app.show(t("read.title"), problem, backButton(app));
      }
    });
}

async function open(app: App, d: Summary, c: MyCase): Promise<[Delivered, KeyCard, KeyCard, string]> {
  const detail = await app.client.get<Schemas["DeliveryDetail"]>(`/v1/deliveries/${d.delivery_id}`);
  const facilitator = facilitatorOf(detail, c);
  // Whoever signed the original: its author, or the facilitator who typed it up.
  const author = verifyKeyCard(detail.author_card);
  const ciphertext = fromBase64(detail.ciphertext);
  const delivered = await openForwarded(
    app.me.age,
    app.me.accountId,
    detail.statement,
    ciphertext,
    facilitator,
    author,
    c.view.case_id,
  );
  if (delivered.forward.message_id !== d.message_id) throw new StatementError("the message is not the one listed");
  if (delivered.enteredBy !== null) {
    // Typed up for a person on paper: only by a facilitator of the case, for someone on paper.
    const member = (id: string) => c.view.members.find((m) => m.account_id === id);
    if (member(delivered.enteredBy)?.role !== "facilitator" || member(delivered.author)?.on_paper !== true) {
      throw new StatementError("this was typed up by someone who may not act for its author");
    }
  }
  return [delivered, facilitator, author, sha256Hex(ciphertext)];
}

function showMessage(app: App, d: Summary, c: MyCase, m: Delivered, facilitator: KeyCard, author: KeyCard): void {
  const decisions = m.forward.attachment_decisions ?? [];
  const replaced = decisions.filter((x) => x !== "dropped").map((x) => x === "replaced");
  const files = m.attachments.map((a, i) => {
    const problem = alertRegion();
    const save = h(
      "button",
      { type: "button", class: "secondary" },
      t("read.attachment.save", { name: shown(a.name), size: size(a.size) }),
    );
    save.addEventListener("click", () => {
      const blob = m.forward.attachments[i];
      if (blob === undefined) return;
      app.client
        .download(`/v1/deliveries/${d.delivery_id}/attachments/${i}`)
        .then((bytes) => openAttachment(app.me.age, bytes, blob, a))
        .then((file) => saveFile(file, a.name))
        .catch((e: unknown) => say(problem, e instanceof StatementError ? t("read.attachment.failed") : explain(e)));
    });
    return h("li", {}, save, replaced[i] === true ? h("p", {}, t("read.attachment.replaced")) : null, problem);
  });
  // Leaving the handwritten page with the facilitator is not a removal.
  const removed = decisions.filter((x, i) => x === "dropped" && !(m.enteredBy !== null && i === 0)).length;
  const authorName = c.view.members.find((x) => x.account_id === m.author)?.display_name ?? author.displayName;
  const checkedWords =
    m.enteredBy !== null
      ? [
          t("read.checked.entered", { author: shown(authorName), typist: shown(author.displayName) }),
          t(m.scanPassed ? "read.scan.passed" : "read.scan.kept"),
        ]
      : [];
  app.show(
    t("read.title"),
    h(
      "div",
      { class: "checked", role: "status" },
      h("p", {}, t("read.checked", { facilitator: shown(facilitator.displayName) })),
      ...checkedWords.map((words) => h("p", {}, words)),
      h(
        "p",
        {},
        m.redacted
          ? t("read.checked.redacted", { facilitator: shown(facilitator.displayName) })
          : m.enteredBy !== null
            ? t("read.checked.typed", { author: shown(authorName) })
            : t("read.checked.own", { author: shown(author.displayName) }),
      ),
    ),
    m.inReplyTo !== null ? h("p", {}, t("read.in-answer")) : null,
    h("div", { class: "letter", lang: "" }, m.body),
    ...Array.from({ length: removed }, () => h("p", {}, t("read.attachment.removed"))),
    files.length > 0 ? h("ul", { class: "actions" }, ...files) : null,
    m.kind === "question" && c.view.state === "active"
      ? h(
          "p",
          {},
          h(
            "button",
            {
              type: "button",
              onclick: () =>
                showWrite(app, c, { kind: "answer", answering: { id: m.forward.message_id, text: m.body } }),
            },
            t("read.answer"),
          ),
        )
      : null,
    backButton(app),
  );
}

/** Sends a read receipt if the reader wants them; asks once per case. */
async function receipt(app: App, d: Summary, c: MyCase, forwardedSha256: string): Promise<void> {
  if (d.state !== "released") return;
  const caseId = c.view.case_id;
  const choice = app.stored?.receipts[caseId];
  const send = async () => {
    const seq = await app.client.nextSeq();
    const body = readReceiptBody(app.me.accountId, caseId, d.message_id, forwardedSha256, seq, now());
    const statement = await signBody(app.me.signer, "read-receipt", body);
    await app.client.post(`/v1/deliveries/${d.delivery_id}/receipt`, { statement });
  };
  if (choice === true) return send();
  if (choice === false) return;
  const remember = async (yes: boolean) => {
    if (app.stored !== undefined) app.stored.receipts[caseId] = yes;
    await update((s) => (s.receipts[caseId] = yes));
    ask.remove();
    if (yes) await send();
  };
  const ask = h(
    "section",
    { class: "ask", "aria-labelledby": "receipt-q" },
    h("h2", { id: "receipt-q" }, t("read.receipt.question")),
    h("p", { class: "hint" }, t("read.receipt.hint")),
    h(
      "ul",
      { class: "actions" },
      h("li", {}, h("button", { type: "button", onclick: () => void remember(true) }, t("read.receipt.yes"))),
      h(
        "li",
        {},
        h("button", { type: "button", class: "secondary", onclick: () => void remember(false) }, t("read.receipt.no")),
      ),
    ),
  );
  app.main.append(ask);
}

/** A returned message: the facilitator's note, checked, and the way to write it again. */
export function showNote(app: App, ret: Summary, m: Schemas["SentMessage"], c: MyCase): void {
  app.show(t("note.title"), h("p", { role: "status", class: "status" }, t("read.checking")));
  (async () => {
    const detail = await app.client.get<Schemas["DeliveryDetail"]>(`/v1/deliveries/${ret.delivery_id}`);
    const facilitator = facilitatorOf(detail, c);
    const note = await openNote(app.me.age, fromBase64(detail.ciphertext), facilitator, c.view.case_id);
    if (note.message_id !== m.message_id) throw new StatementError("the note is about another message");
    const original = await app.client.get<Schemas["MessageDetail"]>(
      `/v1/cases/${c.view.case_id}/messages/${m.message_id}`,
    );
    const mine = verifyKeyCard(original.author_card);
    if (mine.accountId !== app.me.accountId) throw new StatementError("the message is not yours");
    const opened = await openSealed(
      app.me.age,
      original.envelope,
      fromBase64(original.ciphertext),
      mine,
      c.view.case_id,
    );
    return { note, facilitator, text: opened.letter.body };
  })()
    .then(({ note, facilitator, text }) => {
      app.show(
        t("note.title"),
        h("p", {}, t("note.from", { facilitator: shown(facilitator.displayName) })),
        h("blockquote", { class: "letter" }, note.body),
        h(
          "p",
          {},
          h(
            "button",
            {
              type: "button",
              onclick: () =>
                showWrite(app, c, {
                  kind: m.kind,
                  rewriting: { note: note.body, text, inReplyTo: m.in_reply_to ?? null },
                }),
            },
            t("note.rewrite"),
          ),
        ),
        backButton(app),
      );
    })
    .catch((e: unknown) => {
      const problem = alertRegion();
      say(problem, e instanceof StatementError ? t("note.failed") : explain(e));
      app.show(t("note.title"), problem, backButton(app));
    });
}
