// Leaving quickly and locking when idle, as support sites for people at risk do: one button
// on every screen, or Escape three times, swaps the page for a neutral site (replacing this
// page in the tab's history) and locks the keys; after a while without use the page locks.

import { t } from "../strings/index.ts";
import type { App } from "./app.ts";

/** Escape presses within this many milliseconds count as one "three times". */
const ESCAPE_WINDOW_MS = 2000;

/** How long the page stays open without use. */
const IDLE_MS = 5 * 60 * 1000;

/** Leaves now: forgets everything in memory and replaces the page with a neutral site. */
function leave(app: App): void {
  app.forget();
  document.title = "";
  document.body.replaceChildren();
  window.location.replace(t("leave.url"));
}

/** Wires the leave button, the Escape key and the idle lock. */
export function guard(app: App, button: HTMLButtonElement): void {
  button.addEventListener("click", () => leave(app));
  let presses: number[] = [];
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const now = performance.now();
    presses = [...presses.filter((p) => now - p < ESCAPE_WINDOW_MS), now];
    if (presses.length >= 3) leave(app);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (app.keys !== undefined) app.lock("idle");
    }, IDLE_MS);
  };
  for (const event of ["keydown", "pointerdown", "input", "focusin"]) {
    document.addEventListener(event, restart, { passive: true });
  }
  restart();
}
