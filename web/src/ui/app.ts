// The page's frame: one person, their unlocked keys and session while open, and the screen
// shown. Screens replace each other in place (no history entries), focus moves to each new
// heading, and locking or leaving drops everything held in memory.

import { Client } from "../api/client.ts";
import { accountIdOf, type Identity } from "../crypto/keystore.ts";
import type { SignedStatement } from "../crypto/statement.ts";
import { type Keys, keysFor, lockAway } from "../device/keys.ts";
import { save, type Stored } from "../device/vault.ts";
import { checkLog } from "../log/pin.ts";
import { t } from "../strings/index.ts";
import { h } from "./dom.ts";

type Child = Node | string | null | undefined | false;

/** Why the page locked: left alone, asked to, or the session ended. */
export type LockReason = "idle" | "asked" | "expired";

export class App {
  client = new Client();
  stored: Stored | undefined;
  keys: Keys | undefined;
  /** Called to show the unlock screen after a lock. */
  onLock: (why: LockReason) => void = () => {};

  constructor(readonly main: HTMLElement) {
    this.#watch();
  }

  /** Locks the page when the server ends the session. */
  #watch(): void {
    this.client.onSessionEnded = () => this.lock("expired");
  }

  /**
   * Replaces the content with a screen of the open page. Ignored while the page is locked: a
   * request that was answered after the lock must not cover the unlock screen.
   */
  show(title: string, ...content: Child[]): void {
    if (this.keys === undefined) return;
    this.showLocked(title, ...content);
  }

  /** Replaces the content with a screen titled `title`, and moves focus to its heading. */
  showLocked(title: string, ...content: Child[]): void {
    const heading = h("h1", { tabindex: -1 }, title);
    this.main.replaceChildren(heading, ...content.filter((c): c is Node | string => Boolean(c)));
    document.title = `${title} · ${t("page.service")}`;
    heading.focus();
  }

  /** The unlocked keys (a screen that needs them is only shown while unlocked). */
  get me(): Keys {
    if (this.keys === undefined) throw new Error("the page is locked");
    return this.keys;
  }

  /**
   * Keeps a person's keys on this device, once logged in as them: the keystore file, the
   * non-extractable keys where the browser can hold them, the server's key card and the log's
   * first checkpoint; the page is then open.
   */
  async keep(identity: Identity, keystore: Uint8Array, serverCard: SignedStatement): Promise<void> {
    const held = await lockAway(identity);
    const stored: Stored = {
      accountId: accountIdOf(identity),
      displayName: identity.displayName,
      keystore,
      serverCard,
      receipts: {},
      ...held,
    };
    stored.pinned = await checkLog(this.client, stored);
    await save(stored);
    this.stored = stored;
    this.keys = await keysFor(identity, held);
  }

  /** Forgets the keys and the session, clears the screen, and asks for the passphrase. */
  lock(why: LockReason): void {
    this.forget();
    this.onLock(why);
  }

  /** Drops everything held in memory. */
  forget(): void {
    this.keys = undefined;
    this.client.logout();
    this.client = new Client();
    this.#watch();
    this.main.replaceChildren();
  }
}
