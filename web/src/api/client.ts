// The page's client of Ferry's API: JSON over fetch on the page's own origin, errors as the
// server's code and sentence, the session token in memory only.

import type { components } from "../api.d.ts";
import { session } from "../crypto/identity.ts";
import type { Signer } from "../crypto/signer.ts";

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
  /** Called when the server no longer accepts the session (it expired, or was ended). */
  onSessionEnded: () => void = () => {};

  constructor(readonly base = "") {}

  /** GET a JSON resource. */
  get<T>(path: string): Promise<T> {
    return this.#send<T>("GET", path);
  }

  /** POST JSON, read JSON. */
  post<T>(path: string, body: unknown): Promise<T> {
    return this.#send<T>("POST", path, body);
  }

  /** The sequence number the caller's next signed statement must carry. */
  async nextSeq(): Promise<number> {
    return (await this.get<Schemas["Me"]>("/v1/me")).next_seq;
  }

  /** Logs in as `signer`: signs the server's challenge. */
  async login(signer: Signer): Promise<void> {
    const challenge = await this.post<Schemas["Challenge"]>("/v1/session/challenge", {});
    const statement = await session(signer, challenge.challenge, now());
    const token = await this.post<Schemas["SessionToken"]>("/v1/session", { statement });
    this.#token = token.token;
  }

  /** Forgets the session (locking, leaving). */
  logout(): void {
    this.#token = null;
  }

  /** Uploads `data` with PUT, telling `progress` how many bytes have gone; reads JSON back. */
  upload<T>(path: string, data: Blob, progress: (sent: number) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", this.base + path);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      if (this.#token !== null) xhr.setRequestHeader("Authorization", `Bearer ${this.#token}`);
      xhr.upload.onprogress = (e) => progress(e.loaded);
      xhr.onerror = () => reject(unreachable());
      xhr.onload = () => {
        this.#ended(xhr.status);
        try {
          resolve(answer<T>(xhr.status, xhr.responseText));
        } catch (e) {
          reject(e);
        }
      };
      xhr.send(data);
    });
  }

  /** Downloads bytes. */
  async download(path: string): Promise<Uint8Array> {
    const headers: Record<string, string> = {};
    if (this.#token !== null) headers.Authorization = `Bearer ${this.#token}`;
    let response: Response;
    try {
      response = await fetch(this.base + path, { headers, referrerPolicy: "no-referrer" });
    } catch {
      throw unreachable();
    }
    this.#ended(response.status);
    if (!response.ok) answer(response.status, await response.text());
    return new Uint8Array(await response.arrayBuffer());
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
      throw unreachable();
    }
    this.#ended(response.status);
    return answer<T>(response.status, await response.text());
  }

  /** A 401 to a request that carried a session means the session is over. */
  #ended(status: number): void {
    if (status === 401 && this.#token !== null) {
      this.#token = null;
      this.onSessionEnded();
    }
  }
}

function unreachable(): ApiError {
  return new ApiError(0, "unreachable", "The service cannot be reached. Check your connection and try again.");
}

/** The JSON of a success, or the server's error as an [`ApiError`]. */
function answer<T>(status: number, text: string): T {
  if (status < 200 || status > 299) {
    let error: Schemas["ErrorDetail"] | undefined;
    try {
      error = (JSON.parse(text) as Schemas["ErrorBody"]).error;
    } catch {
      error = undefined;
    }
    throw new ApiError(status, error?.code ?? "http_error", error?.message ?? `The service answered ${status}.`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(status, "unreadable", "The service's answer could not be read.");
  }
}
