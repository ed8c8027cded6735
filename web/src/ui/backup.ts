// Saving a copy of the keys: the keystore file exactly as kept (age, locked with the
// passphrase), which the CLI and another browser can open.

import { t } from "../strings/index.ts";
import type { App } from "./app.ts";
import { h, saveFile } from "./dom.ts";

/** A button that saves the keystore file. */
export function backupButton(app: App, after: (message: string) => void): HTMLButtonElement {
  return h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        const stored = app.stored;
        if (stored === undefined) return;
        saveFile(new Blob([new Uint8Array(stored.keystore)], { type: "application/octet-stream" }), t("backup.file"));
        after(t("backup.saved"));
      },
    },
    t("home.backup"),
  );
}
