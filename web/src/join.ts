// Joining from an invitation: check the server is the one the invitation names, make the
// person's keys here, and enrol. Nothing secret leaves this device: the server gets the key
// card (public keys) and the signed enrolment.

import { ApiError, type Client, now, type Schemas } from "./api/client.ts";
import { enrolment, keyCard, newIdentity, signerOf } from "./crypto/identity.ts";
import { parseInvitation } from "./crypto/invitation.ts";
import { fingerprint, keyCode, type KeyCard, safetyNumber, verifyKeyCard } from "./crypto/keycard.ts";
import type { Identity } from "./crypto/keystore.ts";
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

/** Joins the service at `client` with the invitation as typed, under `displayName`. */
export async function join(client: Client, invitation: string, displayName: string): Promise<Joined> {
  const read = parseInvitation(invitation);
  if ("problem" in read) throw new JoinError(read.problem);
  const info = await client.get<Schemas["ServerInfo"]>("/v1/server");
  const server = verifyKeyCard(info.key_card);
  if (keyCode(fingerprint(server)) !== read.serverKey) {
    throw new JoinError(
      "This invitation is for a different service than this page. Nothing was sent. Please tell your coordinator.",
    );
  }
  const identity = await newIdentity("default", displayName);
  const card = await keyCard(identity, now());
  const request = { code: read.code, key_card: card.statement, enrolment: await enrolment(signerOf(identity), read.code, now()) };
  let enrolled: Schemas["EnrolResponse"];
  try {
    enrolled = await client.post<Schemas["EnrolResponse"]>("/v1/enrol", request);
  } catch (e) {
    if (e instanceof ApiError && e.status < 500 && e.status !== 0) {
      throw new JoinError(`${sentence(e.message)} Check the code, or ask your coordinator for a new one.`);
    }
    throw e;
  }
  return { identity, card, server, enrolled, safetyNumber: safetyNumber(fingerprint(card)) };
}
