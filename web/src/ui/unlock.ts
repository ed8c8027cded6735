// Opening the page again: the passphrase opens the keystore kept on this device, then the
// page logs in and checks the log before anything else is shown.

import { verifyKeyCard } from "../crypto/keycard.ts";
import { openKeystore } from "../crypto/keystore.ts";
import { keysFor } from "../device/keys.ts";
import { update } from "../device/vault.ts";
import { JoinError, joinAgain } from "../join.ts";
import { LogError } from "../log/checkpoint.ts";
import { checkLog } from "../log/pin.ts";
import { t } from "../strings/index.ts";
import type { App, LockReason } from "./app.ts";
import { alertRegion, field, h, say } from "./dom.ts";
import { showHome } from "./home.ts";
import { explain } from "./problems.ts";

/**
 * The unlock screen; `why` says the page locked itself when idle; `invitation` is a join link's
 * code opened on a device that already holds the person's keys (used once they unlock).
 */
export function showUnlock(app: App, why?: LockReason, invitation?: string): void {
  const error = alertRegion();
  const pass = field(
    t("unlock.passphrase.label"),
    h("input", { type: "password", autocomplete: "current-password", required: true }),
  );
  const submit = h("button", { type: "submit" }, t("unlock.submit"));
  const busy = h("p", { role: "status", class: "status" });
  const form = h("form", { novalidate: true }, pass.wrap, error, submit, busy);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    say(error, "");
    submit.disabled = true;
    busy.textContent = t("unlock.opening");
    unlock(app, pass.input.value, invitation)
      .then((joined) => (joined === undefined ? showHome(app) : showJoinedAgain(app, joined)))
      .catch((e: unknown) => {
        submit.disabled = false;
        busy.textContent = "";
        pass.input.value = "";
        if (e instanceof LogError) return showLogWarning(app, e);
        say(error, e instanceof WrongPassphrase ? t("unlock.wrong") : explain(e));
      });
  });
  app.showLocked(
    t("unlock.title"),
    why === "idle" ? h("p", { class: "notice" }, t("unlock.locked")) : null,
    why === "expired" ? h("p", { class: "notice" }, t("error.session")) : null,
    invitation !== undefined ? h("p", { class: "notice" }, t("join.again")) : null,
    h("p", {}, t("unlock.intro")),
    form,
    h("p", { class: "hint" }, t("unlock.forgotten")),
  );
}

class WrongPassphrase extends Error {}

/** Opens the keys, logs in, checks the log; then uses `invitation`, if any (its outcome). */
async function unlock(app: App, passphrase: string, invitation?: string): Promise<string | undefined> {
  const stored = app.stored;
  if (stored === undefined) throw new Error("nothing is kept on this device");
  let identities;
  try {
    identities = await openKeystore(stored.keystore, passphrase);
  } catch {
    throw new WrongPassphrase();
  }
  const identity = identities[0];
  if (identity === undefined) throw new WrongPassphrase();
  const keys = await keysFor(identity, stored);
  await app.client.login(keys.signer);
  const pinned = await checkLog(app.client, stored);
  stored.pinned = pinned;
  await update((s) => (s.pinned = pinned));
  app.keys = keys;
  if (invitation === undefined) return undefined;
  try {
    await joinAgain(app.client, identity, verifyKeyCard(stored.serverCard), invitation);
    return t("join.again.done");
  } catch (e) {
    return t("join.again.failed", { reason: e instanceof JoinError ? e.message : explain(e) });
  }
}

/** What became of the invitation, then the person's page. */
function showJoinedAgain(app: App, outcome: string): void {
  const go = h("button", { type: "button", onclick: () => void showHome(app) }, t("joined.continue"));
  app.show(t("unlock.title"), h("p", { role: "status", class: "notice" }, outcome), go);
}

/** The log did not check out: a plain warning, and nothing else. */
function showLogWarning(app: App, e: LogError): void {
  app.forget();
  const why = e.reason === "unsigned" ? "log.unsigned" : e.reason === "rolled-back" ? "log.rolled-back" : "log.forked";
  app.showLocked(t("log.title"), h("p", { role: "alert", class: "warning" }, t(why)), h("p", {}, t("log.advice")));
}
