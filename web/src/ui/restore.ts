// Moving to this device with a saved copy of the keys: the keystore file opens with the
// passphrase, the person checks the service's key code against their invitation (a copy of
// the keys does not say which service it belongs to), the service must know them, and the
// keys are kept here as when they first joined.

import { Client, type Schemas } from "../api/client.ts";
import { signerOf } from "../crypto/identity.ts";
import { fingerprint, keyCode, verifyKeyCard } from "../crypto/keycard.ts";
import { type Identity, openKeystore } from "../crypto/keystore.ts";
import { t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { alertRegion, field, h, say } from "./dom.ts";
import { showHome } from "./home.ts";
import { explain } from "./problems.ts";

class Problem extends Error {}

/** The screen to use a saved copy of the keys. */
export function showRestore(app: App, back: () => void): void {
  const error = alertRegion();
  const file = field(t("restore.file.label"), h("input", { type: "file", required: true }), t("restore.file.hint"));
  const pass = field(t("unlock.passphrase.label"), h("input", { type: "password", autocomplete: "current-password" }));
  const submit = h("button", { type: "submit" }, t("restore.submit"));
  const form = h("form", { novalidate: true }, file.wrap, pass.wrap, error, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    say(error, "");
    submit.disabled = true;
    open((file.input as HTMLInputElement).files?.[0], pass.input.value)
      .then(([bytes, identity, server]) => confirm(app, bytes, identity, server, back))
      .catch((e: unknown) => {
        submit.disabled = false;
        say(error, e instanceof Problem ? e.message : explain(e));
      });
  });
  app.showLocked(
    t("restore.title"),
    h("p", {}, t("restore.intro")),
    form,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: back }, t("back"))),
  );
}

async function open(
  chosen: File | undefined,
  passphrase: string,
): Promise<[Uint8Array, Identity, Schemas["SignedStatement"]]> {
  if (chosen === undefined) throw new Problem(t("restore.no-file"));
  const bytes = new Uint8Array(await chosen.arrayBuffer());
  let identity: Identity | undefined;
  try {
    identity = (await openKeystore(bytes, passphrase))[0];
  } catch {
    throw new Problem(t("restore.wrong"));
  }
  if (identity === undefined) throw new Problem(t("restore.wrong"));
  const info = await new Client().get<Schemas["ServerInfo"]>("/v1/server");
  return [bytes, identity, info.key_card];
}

/** Shows the service's key code to check against the invitation, then keeps the keys. */
function confirm(
  app: App,
  bytes: Uint8Array,
  identity: Identity,
  serverCard: Schemas["SignedStatement"],
  back: () => void,
): void {
  const server = verifyKeyCard(serverCard);
  const code = keyCode(fingerprint(server));
  const error = alertRegion();
  const yes = h("button", { type: "button" }, t("restore.matches"));
  yes.addEventListener("click", () => {
    yes.disabled = true;
    keep(app, bytes, identity, serverCard)
      .then(() => showHome(app))
      .catch((e: unknown) => {
        yes.disabled = false;
        say(error, e instanceof Problem ? e.message : explain(e));
      });
  });
  app.showLocked(
    t("restore.check.title"),
    h("p", {}, t("restore.check")),
    h("p", { class: "safety-number" }, code),
    error,
    h(
      "ul",
      { class: "actions" },
      h("li", {}, yes),
      h("li", {}, h("button", { type: "button", class: "secondary", onclick: back }, t("restore.differs"))),
    ),
  );
}

async function keep(
  app: App,
  keystore: Uint8Array,
  identity: Identity,
  serverCard: Schemas["SignedStatement"],
): Promise<void> {
  try {
    await app.client.login(signerOf(identity));
  } catch {
    throw new Problem(t("restore.unknown"));
  }
  await app.keep(identity, keystore, serverCard);
}
