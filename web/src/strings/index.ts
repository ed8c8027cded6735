// The page's words: one catalogue per language; English is complete and fills any gap.

import { en, type Key } from "./en.ts";

export type { Key };

/** A translation: any of the English keys. */
export type Catalogue = Partial<Record<Key, string>>;

/** Languages this page speaks, by BCP 47 primary tag. Add a catalogue here to add one. */
const catalogues: Record<string, Catalogue> = { en };

let current: Catalogue = en;
let currentTag = "en";

/** Picks the first of the browser's languages the page speaks. */
export function chooseLanguage(preferred: readonly string[]): string {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0] ?? "";
    const found = catalogues[primary];
    if (found !== undefined) {
      current = found;
      currentTag = primary;
      return primary;
    }
  }
  current = en;
  currentTag = "en";
  return currentTag;
}

/** The sentence for `key`, with `{name}` marks filled from `values`. */
export function t(key: Key, values: Record<string, string | number> = {}): string {
  const text: string = current[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (mark, name: string) => {
    const v = values[name];
    return v === undefined ? mark : String(v);
  });
}

/** A date as the person's language writes it. */
export function date(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString(currentTag, { day: "numeric", month: "long", year: "numeric" });
}
