// An invitation as it is handed over: six groups of the one-time code, then four of the
// server key's code, read as typed (any case, dashes or spaces, O as 0, I and L as 1).

import { t } from "../strings/index.ts";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A handed-over invitation, read. */
export interface InvitationCode {
  /** The one-time code (six groups). */
  code: string;
  /** The server key's code (four groups), checked before anything is sent. */
  serverKey: string;
}

/**
 * Reads an invitation as typed or pasted (the code, or the whole link `…/join#CODE`; the page
 * itself reads it from its URL's fragment, which never reaches the server), or says in words
 * why it cannot be read.
 */
export function parseInvitation(text: string): InvitationCode | { problem: string } {
  const hash = text.indexOf("#");
  let code = text;
  if (hash >= 0) {
    try {
      code = decodeURIComponent(text.slice(hash + 1));
    } catch {
      return { problem: t("join.code.incomplete") };
    }
  }
  const groups = code
    .split(/[-\s]+/)
    .filter((g) => g.length > 0)
    .map((g) => [...g.toUpperCase()].map((c) => (c === "O" ? "0" : c === "I" || c === "L" ? "1" : c)).join(""));
  const wellFormed = groups.every((g) => g.length === 5 && [...g].every((c) => CROCKFORD.includes(c)));
  if (!wellFormed || (groups.length !== 6 && groups.length !== 10)) {
    return { problem: t("join.code.incomplete") };
  }
  if (groups.length === 6) {
    return { problem: t("join.code.short") };
  }
  return { code: groups.slice(0, 6).join("-"), serverKey: groups.slice(6).join("-") };
}
