// What this device keeps, in IndexedDB: the person's keys, encrypted with their passphrase
// in the CLI's keystore format (also their backup), and, where the browser has Ed25519 and
// X25519, the same keys as non-extractable WebCrypto keys that no script can read out. With
// them: the server's key card pinned at joining, the last checkpoint verified, and the
// person's choices. Nothing here is a secret in the clear.

import type { SignedStatement } from "../crypto/statement.ts";
import type { Checkpoint } from "../log/checkpoint.ts";

/** One person on this device. */
export interface Stored {
  accountId: string;
  displayName: string;
  /** The keystore file (age, scrypt): the keys wrapped by the passphrase. */
  keystore: Uint8Array;
  /** The same keys, non-extractable, when the browser can hold them so. */
  signingKey?: CryptoKey;
  ageKey?: CryptoKey;
  /** The server's key card, as checked against the invitation. */
  serverCard: SignedStatement;
  /** The last checkpoint verified. */
  pinned?: Checkpoint;
  /** Per case: whether the reader sends read receipts (asked once). */
  receipts: Record<string, boolean>;
}

const DB = "ferry";
const STORE = "people";
/** Which record is the person on this device (one person per browser profile). */
const KEY = "me";

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("the browser's storage failed"));
  });
}

function database(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return (await database()).transaction(STORE, mode).objectStore(STORE);
}

/** The person on this device, if anyone joined here. */
export async function load(): Promise<Stored | undefined> {
  return (await request((await store("readonly")).get(KEY))) as Stored | undefined;
}

/** Keeps `stored` as the person on this device. */
export async function save(stored: Stored): Promise<void> {
  await request((await store("readwrite")).put(stored, KEY));
}

/** Changes what is kept, as read now. */
export async function update(change: (s: Stored) => void): Promise<void> {
  const current = await load();
  if (current === undefined) return;
  change(current);
  await save(current);
}

/** Forgets everything this device kept (after a backup, or to start again). */
export async function forget(): Promise<void> {
  await request((await store("readwrite")).delete(KEY));
}
