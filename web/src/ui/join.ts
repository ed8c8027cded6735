// Joining: the invitation (from the link's fragment, or typed), a name and a passphrase. The
// keys are made here, locked with the passphrase for keeping, and the safety number shown.

import { ApiError } from "../api/client.ts";
import { checkDisplayName, signerOf } from "../crypto/identity.ts";
import { writeKeystore } from "../crypto/keystore.ts";
import { JoinError, join } from "../join.ts";
import { t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { backupButton } from "./backup.ts";
import { alertRegion, field, h, say } from "./dom.ts";
import { showHome } from "./home.ts";
import { showRestore } from "./restore.ts";

/** The scrypt work factor of the keystore (as the CLI's). */
const WORK_FACTOR = 18;

/** The shortest passphrase the page accepts. */
const MIN_PASSPHRASE = 12;

/** The join screen; `fromLink` is the code the page's link carried, if any. */
export function showJoin(app: App, fromLink: string | null): void {
  const error = alertRegion();
  const code = field(
    t("join.code.label"),
    h("input", { autocomplete: "off", spellcheck: "false" }),
    t("join.code.hint"),
  );
  if (fromLink !== null) (code.input as HTMLInputElement).value = fromLink;
  const name = field(
    t("join.name.label"),
    h("input", { autocomplete: "nickname", required: true }),
    t("join.name.hint"),
  );
  const pass = field(
    t("join.passphrase.label"),
    h("input", { type: "password", autocomplete: "new-password", required: true }),
    t("join.passphrase.hint"),
  );
  const again = field(
    t("join.passphrase.again.label"),
    h("input", { type: "password", autocomplete: "new-password", required: true }),
  );
  const submit = h("button", { type: "submit" }, t("join.submit"));
  const busy = h("p", { role: "status", class: "status" });
  const form = h(
    "form",
    { novalidate: true },
    fromLink === null ? code.wrap : h("p", {}, t("join.code.from-link")),
    name.wrap,
    pass.wrap,
    again.wrap,
    error,
    submit,
    busy,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    say(error, "");
    const problem =
      checkDisplayName(name.input.value.trim()) ??
      (pass.input.value.length < MIN_PASSPHRASE ? t("join.passphrase.short") : null) ??
      (pass.input.value !== again.input.value ? t("join.passphrase.differ") : null);
    if (problem !== null) {
      say(error, problem);
      return;
    }
    submit.disabled = true;
    busy.textContent = t("join.making");
    enrol(app, code.input.value, name.input.value.trim(), pass.input.value)
      .then((safety) => showJoined(app, safety))
      .catch((e: unknown) => {
        submit.disabled = false;
        busy.textContent = "";
        say(error, t("join.failed", { reason: reason(e) }));
      });
  });
  app.showLocked(
    t("join.title"),
    h("p", {}, t("join.intro")),
    form,
    h("h2", {}, t("restore.question")),
    h(
      "p",
      {},
      h(
        "button",
        { type: "button", class: "secondary", onclick: () => showRestore(app, () => showJoin(app, fromLink)) },
        t("restore.title"),
      ),
    ),
  );
}

/** Why joining failed, in words for the person. */
function reason(e: unknown): string {
  if (e instanceof JoinError) return e.message;
  if (e instanceof ApiError && e.status === 0) return t("error.unreachable");
  return t("error.general");
}

/** Joins, keeps the keys on this device, logs in and pins the log; returns the safety number. */
async function enrol(app: App, code: string, displayName: string, passphrase: string): Promise<string> {
  const joined = await join(app.client, code, displayName);
  const keystore = await writeKeystore([joined.identity], passphrase, WORK_FACTOR);
  await app.client.login(signerOf(joined.identity));
  await app.keep(joined.identity, keystore, joined.server.statement);
  return joined.safetyNumber;
}

function showJoined(app: App, safety: string): void {
  const note = h("p", { role: "status", class: "status" });
  app.show(
    t("joined.title"),
    h("p", {}, t("joined.safety.intro")),
    h("p", { class: "safety-number", "aria-label": `${t("joined.safety.label")}: ${safety}` }, safety),
    h("p", {}, t("joined.backup.intro")),
    backupButton(app, (m) => (note.textContent = m)),
    note,
    h("p", {}, h("button", { type: "button", onclick: () => void showHome(app) }, t("joined.continue"))),
  );
}
