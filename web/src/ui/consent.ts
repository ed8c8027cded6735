// Consent, withdrawal and holding what arrives: each said plainly, signed here and sent.

import { now, type Schemas } from "../api/client.ts";
import { participantBody } from "../crypto/letters.ts";
import { signBody } from "../crypto/signer.ts";
import { t, type Key } from "../strings/index.ts";
import type { App } from "./app.ts";
import { alertRegion, h, say } from "./dom.ts";
import { showHome } from "./home.ts";
import { explain } from "./problems.ts";

function list(...keys: Key[]): HTMLUListElement {
  return h("ul", {}, ...keys.map((k) => h("li", {}, t(k))));
}

/** Signs the person's consent, withdrawal or hold for `caseId` and sends it to its endpoint. */
async function sign(
  app: App,
  caseId: string,
  kind: "consent" | "withdrawal" | "hold",
  extra: { hold?: boolean } = {},
): Promise<void> {
  const seq = await app.client.nextSeq();
  const body = { ...participantBody(app.me.accountId, caseId, seq, now()), ...extra };
  const statement = await signBody(app.me.signer, kind, body);
  await app.client.post<Schemas["Accepted"]>(`/v1/cases/${caseId}/${kind}`, { statement });
}

/** Holds anything new for the person until they say, or lets it through again. */
export async function setHold(app: App, caseId: string, hold: boolean): Promise<void> {
  try {
    await sign(app, caseId, "hold", { hold });
  } catch (e) {
    const error = alertRegion();
    say(error, explain(e));
    const back = h("button", { type: "button", onclick: () => void showHome(app) }, t("back"));
    app.show(t("home.title"), error, back);
    return;
  }
  await showHome(app);
}

/** What taking part means, and the choice to take part. */
export function showConsent(app: App, caseId: string): void {
  const error = alertRegion();
  const agree = h("input", { type: "checkbox", id: "agree" });
  const submit = h("button", { type: "submit" }, t("consent.submit"));
  const form = h(
    "form",
    { novalidate: true },
    h("div", { class: "check" }, agree, h("label", { for: "agree" }, t("consent.agree"))),
    error,
    submit,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!agree.checked) {
      say(error, t("consent.tick"));
      agree.focus();
      return;
    }
    submit.disabled = true;
    sign(app, caseId, "consent")
      .then(() => showHome(app))
      .catch((e: unknown) => {
        submit.disabled = false;
        say(error, explain(e));
      });
  });
  app.show(
    t("consent.title"),
    h("h2", {}, t("consent.what")),
    list("consent.what.1", "consent.what.2", "consent.what.3"),
    h("h2", {}, t("consent.who")),
    list("consent.who.1", "consent.who.2", "consent.who.3"),
    h("h2", {}, t("consent.stop")),
    list("consent.stop.1"),
    form,
  );
}

/** Stopping, in two steps: what it means, then are you sure. */
export function showWithdraw(app: App, caseId: string): void {
  app.show(
    t("withdraw.title"),
    h("p", {}, t("withdraw.means")),
    list("withdraw.means.1", "withdraw.means.2", "withdraw.means.3", "withdraw.means.4"),
    h(
      "ul",
      { class: "actions" },
      h("li", {}, h("button", { type: "button", onclick: () => confirmWithdraw(app, caseId) }, t("withdraw.continue"))),
      h(
        "li",
        {},
        h("button", { type: "button", class: "secondary", onclick: () => void showHome(app) }, t("withdraw.cancel")),
      ),
    ),
  );
}

function confirmWithdraw(app: App, caseId: string): void {
  const error = alertRegion();
  const yes = h("button", { type: "button", class: "danger" }, t("withdraw.confirm"));
  yes.addEventListener("click", () => {
    yes.disabled = true;
    sign(app, caseId, "withdrawal")
      .then(() => {
        const back = h("button", { type: "button", onclick: () => void showHome(app) }, t("back"));
        app.show(t("withdraw.title"), h("p", { role: "status" }, t("withdraw.done")), back);
      })
      .catch((e: unknown) => {
        yes.disabled = false;
        say(error, explain(e));
      });
  });
  app.show(
    t("withdraw.confirm.title"),
    error,
    h(
      "ul",
      { class: "actions" },
      h("li", {}, yes),
      h(
        "li",
        {},
        h("button", { type: "button", class: "secondary", onclick: () => void showHome(app) }, t("withdraw.cancel")),
      ),
    ),
  );
}
