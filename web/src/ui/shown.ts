// Text another person chose for a name (a display name, a file name) as the page shows it:
// characters that hide or reorder text (bidirectional overrides and isolates, zero-width
// characters, line separators) and control characters are written visibly as \u{…}, as the
// CLI shows them, so a name cannot pretend to be something else.

const HIDDEN = /[\p{Cc}\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** `text` with every hidden or reordering character written visibly. */
export function shown(text: string): string {
  return text.replace(HIDDEN, (c) => (c === "\t" ? c : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`));
}
