// The participant page: reads the invitation from the link's fragment (and takes it out of
// the address at once), then shows joining, or unlocking for the person who joined here.

import "./style.css";

import { load } from "./device/vault.ts";
import { chooseLanguage, t } from "./strings/index.ts";
import { App } from "./ui/app.ts";
import { h } from "./ui/dom.ts";
import { showJoin } from "./ui/join.ts";
import { guard } from "./ui/safety.ts";
import { showUnlock } from "./ui/unlock.ts";
import { showVerify } from "./ui/verify.ts";

async function start(): Promise<void> {
  const lang = chooseLanguage(navigator.languages);
  document.documentElement.lang = lang;
  const path = window.location.pathname;
  const code = window.location.hash.length > 1 ? decoded(window.location.hash.slice(1)) : null;
  // A join code never reaches the server; no code should stay in the address bar or history.
  if (window.location.hash !== "") history.replaceState(null, "", window.location.pathname);

  const main = h("main", { id: "main" });
  const service = h(
    "p",
    { class: "service" },
    h("strong", {}, t("page.service")),
    " ",
    h("span", {}, t("page.tagline")),
  );
  // Checking a printed letter needs no keys, no account, and nothing to leave quickly from.
  if (path === "/verify") {
    document.body.replaceChildren(h("header", {}, service), main);
    return showVerify(new App(main), code);
  }
  const leaveButton = h("button", { type: "button", class: "leave" }, t("leave.button"));
  document.body.replaceChildren(
    h("header", {}, service, h("div", { class: "leave-box" }, leaveButton, h("p", { class: "hint" }, t("leave.hint")))),
    main,
  );
  const app = new App(main);
  guard(app, leaveButton);
  app.onLock = (why) => showUnlock(app, why);
  app.stored = await load();
  const invitation = path === "/join" ? code : null;
  if (app.stored === undefined) {
    showJoin(app, invitation);
  } else {
    showUnlock(app, undefined, invitation ?? undefined);
  }
}

/** The fragment as typed, or as it came when it is not valid percent-encoding. */
function decoded(fragment: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}

void start();
