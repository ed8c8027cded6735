// Pinning the log on every visit: the latest checkpoint must be signed by the server key
// pinned at joining and must extend the last one this device verified.

import type { Client, Schemas } from "../api/client.ts";
import { verifyKeyCard } from "../crypto/keycard.ts";
import type { Stored } from "../device/vault.ts";
import { type Checkpoint, checkConsistency, LogError, verifyCheckpoint } from "./checkpoint.ts";

/** Checks the service's log against what this device saw before; returns the new pin. */
export async function checkLog(client: Client, stored: Stored): Promise<Checkpoint> {
  const server = verifyKeyCard(stored.serverCard);
  const view = await client.get<Schemas["CheckpointView"]>("/v1/checkpoint");
  const origin = stored.pinned?.origin ?? view.origin;
  const latest = verifyCheckpoint(view.note, origin, server.signingKey);
  const pinned = stored.pinned;
  if (pinned === undefined) return latest;
  if (latest.size < pinned.size) {
    throw new LogError("rolled-back", `the log shrank from ${pinned.size} to ${latest.size} events`);
  }
  let proof: string[] = [];
  if (latest.size > pinned.size && pinned.size > 0) {
    const answer = await client.get<Schemas["Proof"]>(`/v1/proofs/consistency?from=${pinned.size}&to=${latest.size}`);
    proof = answer.proof;
  }
  checkConsistency(proof, pinned.size, pinned.root, latest.size, latest.root);
  return latest;
}
