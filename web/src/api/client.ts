// The page's client of Ferry's API: JSON over fetch on the page's own origin, errors as the
// server's code and sentence, the session token in memory only.

import type { components } from "../api.d.ts";
import type { Identity } from "../crypto/keystore.ts";
import { session } from "../crypto/identity.ts";

export type Schemas = components["schemas"];

/** An answer that is not a success: the server's stable code and its sentence. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Seconds since 1970, as statements carry them. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A client of one server; `base` is empty on the page (same origin). */
export class Client {
  #token: string | null = null;

  constructor(readonly base = "") {}

  /** GET a JSON resource. */
  get<T>(path: string): Promise<T> {
    return this.#send<T>("GET", path);
  }

  /** POST JSON, read JSON. */
  post<T>(path: string, body: unknown): Promise<T> {
    return this.#send<T>("POST", path, body);
  }

  /** Logs in as `identity`: signs the server's challenge. */
  async login(identity: Identity): Promise<void> {
    const challenge = await this.post<Schemas["Challenge"]>("/v1/session/challenge", {});
    const statement = session(identity, challenge.challenge, now());
    const token = await this.post<Schemas["SessionToken"]>("/v1/session", { statement });
    this.#token = token.token;
  }

  /** Forgets the session (locking, leaving). */
  logout(): void {
    this.#token = null;
  }

  async #send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.#token !== null) headers.Authorization = `Bearer ${this.#token}`;
    const init: RequestInit = { method, headers, referrerPolicy: "no-referrer" };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response: Response;
    try {
      response = await fetch(this.base + path, init);
    } catch {
      throw new ApiError(0, "unreachable", "The service cannot be reached. Check your connection and try again.");
    }
    const text = await response.text();
    if (!response.ok) {
      let error: Schemas["ErrorDetail"] | undefined;
      try {
        error = (JSON.parse(text) as Schemas["ErrorBody"]).error;
      } catch {
        error = undefined;
      }
      throw new ApiError(
        response.status,
        error?.code ?? "http_error",
        error?.message ?? `The service answered ${response.status}.`,
      );
    }
    return JSON.parse(text) as T;
  }
}
