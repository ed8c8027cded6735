// The person's page: how their case stands, what is waiting for them (shown only as "something
// is waiting", opened when they choose), what they wrote and what became of it, and the way to
// write, stop taking part, save their keys or lock.

import type { Schemas } from "../api/client.ts";
import type { MessageKind } from "../crypto/letters.ts";
import { date, t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { backupButton } from "./backup.ts";
import { setHold, showConsent, showWithdraw } from "./consent.ts";
import { alertRegion, h, say } from "./dom.ts";
import { explain } from "./problems.ts";
import { showNote, showRead } from "./read.ts";
import { shown } from "./shown.ts";
import { showWrite } from "./write.ts";

const PARTICIPANT = new Set(["harmed", "responsible", "supporter"]);

/** One of the person's cases, as the page shows it. */
export interface MyCase {
  view: Schemas["CaseView"];
  role: string;
  consent: string;
  /** Whether the person holds anything new passed on to them. */
  holding: boolean;
}

/** Reads the person's cases. */
async function myCases(app: App): Promise<MyCase[]> {
  const me = await app.client.get<Schemas["Me"]>("/v1/me");
  const cases: MyCase[] = [];
  for (const m of me.cases.filter((c) => PARTICIPANT.has(c.role))) {
    const view = await app.client.get<Schemas["CaseView"]>(`/v1/cases/${m.case_id}`);
    const mine = view.members.find((x) => x.account_id === me.account_id);
    cases.push({ view, role: m.role, consent: mine?.consent ?? "none", holding: m.holding ?? false });
  }
  return cases;
}

/** Shows the person's page (or, for a case they have not consented to yet, the consent). */
export async function showHome(app: App): Promise<void> {
  const problem = alertRegion();
  let cases: MyCase[];
  let inbox: Schemas["DeliverySummary"][];
  let sent: Schemas["SentMessage"][];
  try {
    cases = await myCases(app);
    inbox = await app.client.get<Schemas["DeliverySummary"][]>("/v1/inbox");
    sent = await app.client.get<Schemas["SentMessage"][]>("/v1/sent");
  } catch (e) {
    say(problem, explain(e));
    app.show(t("home.title"), problem);
    return;
  }
  const asked = cases.find((c) => c.consent === "none" && c.view.state !== "closed");
  if (asked !== undefined) {
    showConsent(app, asked.view.case_id);
    return;
  }
  const note = h("p", { role: "status", class: "status" });
  app.show(
    t("home.title"),
    h("p", {}, t("home.hello", { name: shown(app.me.displayName) })),
    cases.length === 0 ? h("p", {}, t("home.none")) : null,
    ...cases.map((c) => caseSection(app, c, inbox, sent)),
    h(
      "section",
      { "aria-labelledby": "more" },
      h("h2", { id: "more" }, t("home.more.title")),
      h(
        "ul",
        { class: "actions" },
        h(
          "li",
          {},
          backupButton(app, (m) => (note.textContent = m)),
        ),
        h(
          "li",
          {},
          h("button", { type: "button", class: "secondary", onclick: () => app.lock("asked") }, t("lock.button")),
        ),
      ),
      note,
    ),
  );
}

function caseStatus(c: MyCase): HTMLElement {
  const state = c.view.state;
  return h("p", { class: `case-state ${state}` }, t(`home.case.${state}`));
}

function kindWord(kind: string): string {
  return t(kind === "question" ? "kind.question" : kind === "answer" ? "kind.answer" : "kind.letter");
}

function caseSection(
  app: App,
  c: MyCase,
  inbox: Schemas["DeliverySummary"][],
  sent: Schemas["SentMessage"][],
): HTMLElement {
  const id = c.view.case_id;
  const forwards = inbox.filter((d) => d.case_id === id && d.kind === "forward");
  const returns = inbox.filter((d) => d.case_id === id && d.kind === "return");
  const mine = sent.filter((m) => m.case_id === id);
  const canWrite = c.view.state === "active" && c.consent === "given";
  const withdrawn = c.consent === "withdrawn";
  return h(
    "section",
    { class: "case", "aria-label": c.view.reference },
    caseStatus(c),
    ...c.view.members
      .filter((m) => m.on_paper === true)
      .map((m) => h("p", {}, t("home.on-paper", { name: shown(m.display_name) }))),
    c.holding ? h("p", { class: "notice" }, t("home.holding")) : null,
    h("h2", {}, t("home.inbox.title")),
    forwards.length === 0
      ? h("p", {}, t("home.inbox.empty"))
      : h(
          "ul",
          { class: "items" },
          ...forwards.map((d) =>
            h(
              "li",
              {},
              h(
                "p",
                {},
                t(d.state === "read" ? "home.inbox.item.read" : "home.inbox.item", {
                  kind: kindWord(d.message_kind),
                  date: date(d.created_at),
                }),
              ),
              h(
                "button",
                { type: "button", onclick: () => showRead(app, d, c) },
                t(d.state === "read" ? "home.inbox.open-again" : "home.inbox.open"),
              ),
            ),
          ),
        ),
    h("h2", {}, t("home.sent.title")),
    mine.length === 0
      ? h("p", {}, t("home.sent.empty"))
      : h(
          "ul",
          { class: "items" },
          ...mine.map((m) => {
            const returned = returns.filter((d) => d.message_id === m.message_id).at(-1);
            return h(
              "li",
              {},
              h(
                "p",
                {},
                t("home.sent.item", { kind: kindWord(m.kind), date: date(m.created_at), state: t(`sent.${m.state}`) }),
              ),
              m.state === "returned" && returned !== undefined
                ? h(
                    "button",
                    { type: "button", onclick: () => showNote(app, returned, m, c) },
                    t("home.sent.read-note"),
                  )
                : null,
            );
          }),
        ),
    h("h2", {}, t("home.write.title")),
    canWrite
      ? h(
          "ul",
          { class: "actions" },
          ...(["question", "letter"] as MessageKind[]).map((kind) =>
            h(
              "li",
              {},
              h(
                "button",
                { type: "button", onclick: () => showWrite(app, c, { kind }) },
                t(kind === "question" ? "home.write.question" : "home.write.letter"),
              ),
            ),
          ),
        )
      : h("p", {}, t("home.write.closed")),
    c.view.state === "closed"
      ? null
      : h(
          "ul",
          { class: "actions" },
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "secondary", onclick: () => void setHold(app, id, !c.holding) },
              t(c.holding ? "home.hold.off" : "home.hold.on"),
            ),
            h("p", { class: "hint" }, t(c.holding ? "home.hold.off.hint" : "home.hold.on.hint")),
          ),
          h(
            "li",
            {},
            withdrawn
              ? h(
                  "button",
                  { type: "button", class: "secondary", onclick: () => showConsent(app, id) },
                  t("home.consent-again"),
                )
              : h(
                  "button",
                  { type: "button", class: "secondary", onclick: () => showWithdraw(app, id) },
                  t("home.withdraw"),
                ),
          ),
        ),
  );
}
