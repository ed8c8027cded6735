// An invitation as it is handed over: six groups of the one-time code, then four of the
// server key's code, read as typed (any case, dashes or spaces, O as 0, I and L as 1).

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A handed-over invitation, read. */
export interface InvitationCode {
  /** The one-time code (six groups). */
  code: string;
  /** The server key's code (four groups), checked before anything is sent. */
  serverKey: string;
}

/** Reads an invitation, or says in words why it cannot be read. */
export function parseInvitation(text: string): InvitationCode | { problem: string } {
  const groups = text
    .split(/[-\s]+/)
    .filter((g) => g.length > 0)
    .map((g) =>
      [...g.toUpperCase()].map((c) => (c === "O" ? "0" : c === "I" || c === "L" ? "1" : c)).join(""),
    );
  const wellFormed = groups.every((g) => g.length === 5 && [...g].every((c) => CROCKFORD.includes(c)));
  if (!wellFormed || (groups.length !== 6 && groups.length !== 10)) {
    return { problem: "This code is not complete. Check it against the one you were given." };
  }
  if (groups.length === 6) {
    return {
      problem: "This code is missing its last four groups. Ask your coordinator for the whole code.",
    };
  }
  return { code: groups.slice(0, 6).join("-"), serverKey: groups.slice(6).join("-") };
}
