// Joining from an invitation: check the server is the one the invitation names, make the
// person's keys here, and enrol. Nothing secret leaves this device: the server gets the key
// card (public keys) and the signed enrolment.

import { ApiError, type Client, now, type Schemas } from "./api/client.ts";
import { enrolment, keyCard, newIdentity, signerOf } from "./crypto/identity.ts";
import { parseInvitation } from "./crypto/invitation.ts";
import { fingerprint, keyCode, type KeyCard, safetyNumber, verifyKeyCard } from "./crypto/keycard.ts";
import type { Identity } from "./crypto/keystore.ts";
import { t } from "./strings/index.ts";
import { sentence } from "./ui/problems.ts";

/** A person who has joined: their keys, their card, what they joined as, their safety number. */
export interface Joined {
  identity: Identity;
  card: KeyCard;
  server: KeyCard;
  enrolled: Schemas["EnrolResponse"];
  safetyNumber: string;
}

/** Why joining did not happen, in words for the person. */
export class JoinError extends Error {
  override name = "JoinError";
}

/** Reads the invitation and checks that this service's key is the one it names. */
async function checked(client: Client, invitation: string): Promise<{ code: string; server: KeyCard }> {
  const read = parseInvitation(invitation);
  if ("problem" in read) throw new JoinError(read.problem);
  const info = await client.get<Schemas["ServerInfo"]>("/v1/server");
  const server = verifyKeyCard(info.key_card);
  if (keyCode(fingerprint(server)) !== read.serverKey) throw new JoinError(t("join.other-service"));
  return { code: read.code, server };
}

/** Sends `identity`'s key card and signed acceptance of `code`. */
async function enrol(
  client: Client,
  identity: Identity,
  card: KeyCard,
  code: string,
): Promise<Schemas["EnrolResponse"]> {
  const request = { code, key_card: card.statement, enrolment: await enrolment(signerOf(identity), code, now()) };
  try {
    return await client.post<Schemas["EnrolResponse"]>("/v1/enrol", request);
  } catch (e) {
    if (e instanceof ApiError && e.status < 500 && e.status !== 0) {
      throw new JoinError(t("join.refused", { reason: sentence(e.message) }));
    }
    throw e;
  }
}

/** Joins the service at `client` with the invitation as typed, under `displayName`. */
export async function join(client: Client, invitation: string, displayName: string): Promise<Joined> {
  const { code, server } = await checked(client, invitation);
  const identity = await newIdentity("default", displayName);
  const card = await keyCard(identity, now());
  const enrolled = await enrol(client, identity, card, code);
  return { identity, card, server, enrolled, safetyNumber: safetyNumber(fingerprint(card)) };
}

/**
 * Joins another case with the keys already on this device: the service must still hold the
 * key pinned when they first joined.
 */
export async function joinAgain(
  client: Client,
  identity: Identity,
  pinned: KeyCard,
  invitation: string,
): Promise<Schemas["EnrolResponse"]> {
  const { code, server } = await checked(client, invitation);
  if (server.accountId !== pinned.accountId) throw new JoinError(t("join.other-service"));
  return enrol(client, identity, await keyCard(identity, now()), code);
}
