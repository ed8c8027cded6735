// What went wrong, in words for the person: the service's own sentence for a refusal, or a
// plain sentence for a lost connection or session.

import { ApiError } from "../api/client.ts";
import { t } from "../strings/index.ts";

/** A sentence for any failure. */
export function explain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t("error.unreachable");
    if (e.status === 401) return t("error.session");
    if (e.status < 500) return sentence(e.message);
  }
  return t("error.general");
}

/** The server's sentence as a sentence: a capital first, a full stop last. */
export function sentence(text: string): string {
  const s = text.trim();
  const capital = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
