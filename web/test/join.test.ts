// Joining from the page's code against the real `ferry-server` (the binary `cargo build`
// makes): the Rust server accepts the key card, enrolment and login the TypeScript signs,
// and an invitation for another server sends nothing.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, expect, it } from "vitest";

import { Client, type Schemas } from "../src/api/client.ts";
import { signerOf } from "../src/crypto/identity.ts";
import { accountIdOf } from "../src/crypto/keystore.ts";
import { JoinError, join } from "../src/join.ts";

const binary =
  process.env.FERRY_SERVER_BIN ?? fileURLToPath(new URL("../../target/debug/ferry-server", import.meta.url));
const available = existsSync(binary);
if (!available) {
  const message = `SKIPPED: no ferry-server at ${binary} (run \`cargo build\` first, or set FERRY_SERVER_BIN)`;
  if (process.env.FERRY_REQUIRE_WEB_E2E) throw new Error(message);
  console.warn(message);
}

let dir = "";
let server: ChildProcess | undefined;
let address = "";
let invitation = "";

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(joinPath(tmpdir(), "ferry-web-"));
  const env: NodeJS.ProcessEnv = { ...process.env, FERRY_LOG: "info" };
  for (const name of Object.keys(env)) {
    if (name.startsWith("FERRY_") && name !== "FERRY_LOG") delete env[name];
  }
  const init = execFileSync(binary, ["--data-dir", dir, "init"], {
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  invitation = /^ {4}(\S+)$/m.exec(init)?.[1] ?? "";
  server = spawn(binary, ["--data-dir", dir, "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  address = await new Promise<string>((resolve, reject) => {
    let log = "";
    server?.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      const found = /listening address=(\S+)/.exec(log);
      if (found?.[1]) resolve(found[1]);
    });
    server?.on("exit", () => reject(new Error(`ferry-server stopped:\n${log}`)));
  });
}, 60_000);

afterAll(() => {
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it.runIf(available)(
  "a person joins and logs in with keys made by the page",
  async () => {
    expect(invitation).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){9}$/);
    const client = new Client(`http://${address}`);

    // An invitation naming another server's key: refused before anything is sent.
    const groups = invitation.split("-");
    const other = [...groups.slice(0, 9), groups[9] === "00000" ? "11111" : "00000"].join("-");
    await expect(join(client, other, "Chris Coordinator")).rejects.toThrow(JoinError);
    await expect(join(client, groups.slice(0, 6).join("-"), "Chris Coordinator")).rejects.toThrow(
      /missing its last four groups/,
    );

    // The same code still works: nothing was used up.
    const joined = await join(client, invitation.toLowerCase(), "Chris Coordinator");
    expect(joined.enrolled.role).toBe("coordinator");
    expect(joined.enrolled.account_id).toBe(accountIdOf(joined.identity));
    expect(joined.safetyNumber).toMatch(/^\d{5}( \d{5}){5}$/);

    await client.login(signerOf(joined.identity));
    const me = await client.get<Schemas["Me"]>("/v1/me");
    expect(me.account_id).toBe(joined.card.accountId);
    expect(me.staff_role).toBe("coordinator");
    expect(me.display_name).toBe("Chris Coordinator");

    // Used once: a second person cannot join with it.
    await expect(join(new Client(`http://${address}`), invitation, "Someone Else")).rejects.toThrow(JoinError);
  },
  60_000,
);
